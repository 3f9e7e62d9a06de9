//! Appointments (预约): the events of an appointment's stream and its status.

use serde::{Deserialize, Serialize};

use super::HallError;

/// How a booking, a number or an application reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingChannel {
    Online,
    Mobile,
    Kiosk,
    Hotline,
    Window,
}

impl BookingChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingChannel::Online => "online",
            BookingChannel::Mobile => "mobile",
            BookingChannel::Kiosk => "kiosk",
            BookingChannel::Hotline => "hotline",
            BookingChannel::Window => "window",
        }
    }
}

/// Where an appointment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Booked,
    Cancelled,
    CheckedIn,
    NoShow,
}

impl AppointmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::CheckedIn => "checked_in",
            AppointmentStatus::NoShow => "no_show",
        }
    }

    pub fn parse(s: &str) -> Option<AppointmentStatus> {
        [
            AppointmentStatus::Booked,
            AppointmentStatus::Cancelled,
            AppointmentStatus::CheckedIn,
            AppointmentStatus::NoShow,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// The status after a recorded event.
    pub fn apply(self, e: &AppointmentEvent) -> AppointmentStatus {
        match e {
            AppointmentEvent::Booked { .. } | AppointmentEvent::Rebooked { .. } => AppointmentStatus::Booked,
            AppointmentEvent::Cancelled { .. } => AppointmentStatus::Cancelled,
            AppointmentEvent::CheckedIn { .. } => AppointmentStatus::CheckedIn,
            AppointmentEvent::NoShow {} => AppointmentStatus::NoShow,
            AppointmentEvent::Reminded {} => self,
        }
    }

    /// Whether the event may be recorded now: everything but the booking itself needs a booked appointment.
    pub fn check(self, e: &AppointmentEvent) -> Result<(), HallError> {
        match e {
            AppointmentEvent::Booked { .. } => Err(HallError::AppointmentNotBooked(self)),
            _ if self == AppointmentStatus::Booked => Ok(()),
            _ => Err(HallError::AppointmentNotBooked(self)),
        }
    }
}

/// The events of an appointment's stream (`appt-{code}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum AppointmentEvent {
    #[serde(rename = "appointment_booked")]
    Booked {
        point: String,
        item: String,
        /// `YYYY-MM-DD` and `HH:MM` (local time).
        date: String,
        slot: String,
        channel: BookingChannel,
        /// The account that booked for itself, if signed in.
        account: Option<String>,
        /// Blind index of the person (resident ID), for counting no-shows across channels.
        holder_index: String,
        /// Sealed name and phone, for the window and reminders.
        name: String,
        phone: String,
    },
    #[serde(rename = "appointment_rebooked")]
    Rebooked { date: String, slot: String },
    #[serde(rename = "appointment_cancelled")]
    Cancelled { reason: String },
    #[serde(rename = "appointment_reminded")]
    Reminded {},
    #[serde(rename = "appointment_checked_in")]
    CheckedIn { number: String },
    #[serde(rename = "appointment_no_show")]
    NoShow {},
}
