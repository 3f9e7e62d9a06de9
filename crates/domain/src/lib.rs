//! The pure rules of OneSeal: identifiers, the working-day calendar and clocks, the service catalog, the case
//! machine and catalog search, and the typed events and statuses of every other stream (alerts, urgings, licences,
//! liaison, ratings, catalog versions, calendar years, personal-data reads, shipments).
//!
//! Architecture invariant: this crate does no IO and reads no clock; it knows nothing of HTTP, SQL or tokio.
//! Time, the calendar and the actor are parameters.

pub mod acceptance;
pub mod assessment;
pub mod calendar;
pub mod case;
pub mod catalog;
pub mod clock;
pub mod dashboard;
pub mod drawing_review;
pub mod flowchart;
pub mod form;
pub mod hall;
pub mod hotline;
pub mod ids;
pub mod inspection;
pub mod liaison;
pub mod license;
pub mod party;
pub mod personal_data;
pub mod project;
pub mod rating;
pub mod recompute;
pub mod roles;
pub mod search;
pub mod shipment;
pub mod supervision;
pub mod urging;
pub mod worktime;
