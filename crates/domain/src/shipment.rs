//! Postal delivery (邮政寄送): the events of a shipment's stream, its status, which events each status allows, and
//! which of a carrier's tracking reports are new.
//!
//! A result delivered by post (`Delivery::Post`) becomes a shipment: requested with the sealed address, given a
//! waybill by the carrier, tracked (picked up → in transit → out for delivery → delivered, or returned), and — when
//! returned — taken back to the window, where the result is collected or sent again (a new shipment). `check` says
//! whether an event may be recorded now (it never changes anything); `ShipmentStatus::apply` folds a recorded event,
//! so replaying a stream never fails. Pure: times come in the events.

use serde::{Deserialize, Serialize};

/// Who pays the postage: the bureau (免费寄递, the result is posted free of charge) or the recipient (到付).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Postage {
    #[default]
    Bureau,
    Recipient,
}

impl Postage {
    pub fn as_str(self) -> &'static str {
        match self {
            Postage::Bureau => "bureau",
            Postage::Recipient => "recipient",
        }
    }

    pub fn parse(s: &str) -> Option<Postage> {
        [Postage::Bureau, Postage::Recipient].into_iter().find(|p| p.as_str() == s)
    }
}

/// A stage a carrier reports (物流轨迹).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 已揽收
    PickedUp,
    /// 运输中
    InTransit,
    /// 派送中
    OutForDelivery,
    /// 已签收
    Delivered,
    /// 退回 (undeliverable; back to the sender)
    Returned,
}

impl Stage {
    pub const ALL: [Stage; 5] =
        [Stage::PickedUp, Stage::InTransit, Stage::OutForDelivery, Stage::Delivered, Stage::Returned];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::PickedUp => "picked_up",
            Stage::InTransit => "in_transit",
            Stage::OutForDelivery => "out_for_delivery",
            Stage::Delivered => "delivered",
            Stage::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// One tracking report of a carrier: the stage, when the carrier saw it, where, and its note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracking {
    pub stage: Stage,
    /// The carrier's time of the report (milliseconds since the epoch).
    pub at_ms: i64,
    pub location: String,
    pub note: String,
}

/// Where a shipment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// Waiting for the carrier's waybill.
    Requested,
    /// Waybill issued; waiting for the carrier to pick it up.
    Created,
    PickedUp,
    InTransit,
    OutForDelivery,
    Delivered,
    /// Returned by the carrier: the result is back at the window.
    Returned,
    /// A returned result was collected at the window.
    Collected,
    /// A returned result was sent again (under a new shipment).
    Resent,
}

impl ShipmentStatus {
    pub const ALL: [ShipmentStatus; 9] = [
        ShipmentStatus::Requested,
        ShipmentStatus::Created,
        ShipmentStatus::PickedUp,
        ShipmentStatus::InTransit,
        ShipmentStatus::OutForDelivery,
        ShipmentStatus::Delivered,
        ShipmentStatus::Returned,
        ShipmentStatus::Collected,
        ShipmentStatus::Resent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ShipmentStatus::Requested => "requested",
            ShipmentStatus::Created => "created",
            ShipmentStatus::PickedUp => "picked_up",
            ShipmentStatus::InTransit => "in_transit",
            ShipmentStatus::OutForDelivery => "out_for_delivery",
            ShipmentStatus::Delivered => "delivered",
            ShipmentStatus::Returned => "returned",
            ShipmentStatus::Collected => "collected",
            ShipmentStatus::Resent => "resent",
        }
    }

    pub fn parse(s: &str) -> Option<ShipmentStatus> {
        ShipmentStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// With the carrier: a waybill issued and neither delivered nor returned yet (what the tracking worker polls).
    pub fn in_transit(self) -> bool {
        matches!(
            self,
            ShipmentStatus::Created
                | ShipmentStatus::PickedUp
                | ShipmentStatus::InTransit
                | ShipmentStatus::OutForDelivery
        )
    }

    fn of_stage(s: Stage) -> ShipmentStatus {
        match s {
            Stage::PickedUp => ShipmentStatus::PickedUp,
            Stage::InTransit => ShipmentStatus::InTransit,
            Stage::OutForDelivery => ShipmentStatus::OutForDelivery,
            Stage::Delivered => ShipmentStatus::Delivered,
            Stage::Returned => ShipmentStatus::Returned,
        }
    }

    /// The status after a recorded event. A tracking report never moves a shipment back (a late "in transit"
    /// after "out for delivery" is kept in the list, the status stays).
    pub fn apply(self, e: &ShipmentEvent) -> ShipmentStatus {
        match e {
            ShipmentEvent::Requested { .. } => ShipmentStatus::Requested,
            ShipmentEvent::WaybillIssued { .. } => ShipmentStatus::Created,
            ShipmentEvent::Tracked { tracking } => {
                let next = ShipmentStatus::of_stage(tracking.stage);
                if self.in_transit() && (next as u8) > (self as u8) {
                    next
                } else {
                    self
                }
            }
            ShipmentEvent::Collected { .. } => ShipmentStatus::Collected,
            ShipmentEvent::Resent { .. } => ShipmentStatus::Resent,
        }
    }

    /// Whether the event may be recorded on a shipment in this status: a waybill once, while requested; tracking
    /// while with the carrier; collecting or sending again only once it was returned.
    pub fn check(self, e: &ShipmentEvent) -> Result<(), ShipmentError> {
        match e {
            ShipmentEvent::Requested { .. } => Err(ShipmentError::Exists),
            ShipmentEvent::WaybillIssued { .. } if self == ShipmentStatus::Requested => Ok(()),
            ShipmentEvent::WaybillIssued { .. } => Err(ShipmentError::WaybillIssued(self)),
            ShipmentEvent::Tracked { .. } if self.in_transit() => Ok(()),
            ShipmentEvent::Tracked { .. } => Err(ShipmentError::NotInTransit(self)),
            ShipmentEvent::Collected { .. } | ShipmentEvent::Resent { .. } if self == ShipmentStatus::Returned => {
                Ok(())
            }
            ShipmentEvent::Collected { .. } | ShipmentEvent::Resent { .. } => Err(ShipmentError::NotReturned(self)),
        }
    }
}

impl std::fmt::Display for ShipmentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The events of a shipment's stream (`shipment-{case_no}-{attempt}`); the stored `type` is the tag, the payload
/// the other fields. The address and the phone are sealed before the event is written (never in clear).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ShipmentEvent {
    #[serde(rename = "shipment_requested")]
    Requested {
        case_no: String,
        /// 1 for the first shipment of a case's result, 2 for the first re-sending, …
        attempt: u32,
        department: String,
        /// The sealed address.
        address: String,
        /// The recipient's sealed phone, when the case has one.
        phone: Option<String>,
        postage: Postage,
        /// The shipment this one sends again, after it was returned.
        resends: Option<String>,
    },
    #[serde(rename = "shipment_waybill_issued")]
    WaybillIssued { carrier: String, waybill: String },
    #[serde(rename = "shipment_tracked")]
    Tracked { tracking: Tracking },
    /// The returned result was handed over at a window.
    #[serde(rename = "shipment_collected")]
    Collected { window: String },
    /// The returned result was sent again, as shipment `next`.
    #[serde(rename = "shipment_resent")]
    Resent { next: String },
}

/// The carrier's reports not yet recorded, oldest first: a report is recorded once, whatever the carrier repeats
/// (the same stage at the same time is the same report).
pub fn new_reports(recorded: &[Tracking], reported: &[Tracking]) -> Vec<Tracking> {
    let mut out: Vec<Tracking> = Vec::new();
    for r in reported {
        let seen = |t: &Tracking| t.stage == r.stage && t.at_ms == r.at_ms;
        if !recorded.iter().any(seen) && !out.iter().any(seen) {
            out.push(r.clone());
        }
    }
    out.sort_by_key(|t| (t.at_ms, t.stage));
    out
}

/// Why an event on a shipment was refused. Stable codes for machines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShipmentError {
    #[error("the shipment exists already")]
    Exists,
    #[error("the shipment is {0}: its waybill was issued already")]
    WaybillIssued(ShipmentStatus),
    #[error("the shipment is {0}: it is not with the carrier")]
    NotInTransit(ShipmentStatus),
    #[error("the shipment is {0}: only a returned shipment is collected at the window or sent again")]
    NotReturned(ShipmentStatus),
}

impl ShipmentError {
    pub fn code(&self) -> &'static str {
        match self {
            ShipmentError::Exists => "shipment_exists",
            ShipmentError::WaybillIssued(_) => "shipment_waybill_issued",
            ShipmentError::NotInTransit(_) => "shipment_not_in_transit",
            ShipmentError::NotReturned(_) => "shipment_not_returned",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracked(stage: Stage, at_ms: i64) -> ShipmentEvent {
        ShipmentEvent::Tracked { tracking: Tracking { stage, at_ms, location: "银川".into(), note: String::new() } }
    }

    #[test]
    fn a_shipment_is_tracked_to_delivery_and_never_moves_back() {
        let waybill = ShipmentEvent::WaybillIssued { carrier: "sim".into(), waybill: "SIM1".into() };
        let s = ShipmentStatus::Requested;
        assert_eq!(s.check(&tracked(Stage::PickedUp, 1)), Err(ShipmentError::NotInTransit(s)));
        assert_eq!(s.check(&waybill), Ok(()));
        let s = s.apply(&waybill);
        assert_eq!(s, ShipmentStatus::Created);
        assert_eq!(s.check(&waybill).unwrap_err().code(), "shipment_waybill_issued");
        let s = s.apply(&tracked(Stage::PickedUp, 1)).apply(&tracked(Stage::OutForDelivery, 3));
        assert_eq!(s, ShipmentStatus::OutForDelivery);
        // A late report of an earlier stage is allowed and kept, but the status stays.
        assert_eq!(s.check(&tracked(Stage::InTransit, 2)), Ok(()));
        assert_eq!(s.apply(&tracked(Stage::InTransit, 2)), ShipmentStatus::OutForDelivery);
        let s = s.apply(&tracked(Stage::Delivered, 4));
        assert_eq!(s, ShipmentStatus::Delivered);
        assert!(!s.in_transit());
        assert_eq!(s.check(&tracked(Stage::Returned, 5)).unwrap_err().code(), "shipment_not_in_transit");
        let err = s.check(&ShipmentEvent::Collected { window: "A01".into() }).unwrap_err();
        assert_eq!(
            (err.code(), err.to_string().as_str()),
            (
                "shipment_not_returned",
                "the shipment is delivered: only a returned shipment is collected at the window or sent again"
            )
        );
    }

    #[test]
    fn a_returned_shipment_is_collected_or_sent_again_once() {
        let s = ShipmentStatus::InTransit.apply(&tracked(Stage::Returned, 9));
        assert_eq!(s, ShipmentStatus::Returned);
        let collect = ShipmentEvent::Collected { window: "A01".into() };
        let resend = ShipmentEvent::Resent { next: "shipment-YC1-2".into() };
        assert_eq!((s.check(&collect), s.check(&resend)), (Ok(()), Ok(())));
        for done in [s.apply(&collect), s.apply(&resend)] {
            assert!(done.check(&collect).is_err() && done.check(&resend).is_err());
            assert!(done.check(&tracked(Stage::Delivered, 10)).is_err());
        }
        assert_eq!(s.apply(&collect), ShipmentStatus::Collected);
        assert_eq!(s.apply(&resend), ShipmentStatus::Resent);
        let req = ShipmentEvent::Requested {
            case_no: "YC1".into(),
            attempt: 1,
            department: "market".into(),
            address: "sealed".into(),
            phone: None,
            postage: Postage::Bureau,
            resends: None,
        };
        assert_eq!(ShipmentStatus::Created.check(&req), Err(ShipmentError::Exists));
    }

    #[test]
    fn each_report_is_recorded_once() {
        let t = |stage, at_ms| Tracking { stage, at_ms, location: String::new(), note: String::new() };
        let recorded = vec![t(Stage::PickedUp, 1)];
        let reported =
            vec![t(Stage::InTransit, 5), t(Stage::PickedUp, 1), t(Stage::InTransit, 5), t(Stage::PickedUp, 0)];
        assert_eq!(new_reports(&recorded, &reported), vec![t(Stage::PickedUp, 0), t(Stage::InTransit, 5)]);
        assert!(new_reports(&reported, &reported).is_empty());
    }

    #[test]
    fn names_read_back() {
        for s in ShipmentStatus::ALL {
            assert_eq!(ShipmentStatus::parse(s.as_str()), Some(s));
        }
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
        }
        for p in [Postage::Bureau, Postage::Recipient] {
            assert_eq!(Postage::parse(p.as_str()), Some(p));
        }
        assert_eq!(ShipmentStatus::parse("lost"), None);
    }
}
