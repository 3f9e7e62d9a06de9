//! The citizen hall and its service network (市民大厅, 受理点): the network as data, appointments (预约) and the
//! queue (取号 / 叫号), pure.
//!
//! The network is one versioned document (`Network`): service points at every level with their address, opening
//! hours, windows and the items each handles, the priority rules of the queue and the appointment rules. An
//! appointment is a stream of [`AppointmentEvent`]s; a queue number is a stream of [`QueueEvent`]s. Which number a
//! window calls next is [`pick_next`]; which priority an arrival gets is [`Network::classify`]. Times come in as
//! parameters (milliseconds since the epoch and local dates); nothing here reads a clock.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::{Date, Time};

use crate::calendar::Calendar;

/// `*` in an item list: every item of the catalog.
pub const ALL_ITEMS: &str = "*";

/// The level of a service point (四级: city, district/county, town/street, community; plus parks, bank branches and
/// kiosk sites).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointLevel {
    /// 市民大厅
    City,
    /// 县（市）区政务服务中心
    District,
    /// 园区服务中心 (powers delegated to an industrial park)
    Park,
    /// 乡镇（街道）便民服务中心
    Town,
    /// 村（社区）便民服务站
    Community,
    /// 合作银行网点
    Bank,
    /// 自助终端点位
    Kiosk,
}

impl PointLevel {
    pub const ALL: [PointLevel; 7] = [
        PointLevel::City,
        PointLevel::District,
        PointLevel::Park,
        PointLevel::Town,
        PointLevel::Community,
        PointLevel::Bank,
        PointLevel::Kiosk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PointLevel::City => "city",
            PointLevel::District => "district",
            PointLevel::Park => "park",
            PointLevel::Town => "town",
            PointLevel::Community => "community",
            PointLevel::Bank => "bank",
            PointLevel::Kiosk => "kiosk",
        }
    }

    pub fn parse(s: &str) -> Option<PointLevel> {
        PointLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// On which days a point opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Opening {
    /// Official working days (holidays closed, adjusted working days open).
    #[default]
    WorkingDays,
    /// Every day of the year (kiosk sites, some bank branches).
    EveryDay,
}

/// A window (窗口) at a point: its number, its section, and the items it serves (`*`: every item the point
/// handles — a general window, 综合窗口).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// `A01`, `B12` … unique at the point.
    pub no: String,
    /// The section (科室 / 分区) the window belongs to, e.g. `综合受理`.
    pub section: String,
    #[serde(default = "all_items")]
    pub items: Vec<String>,
}

fn all_items() -> Vec<String> {
    vec![ALL_ITEMS.to_string()]
}

fn two() -> u16 {
    2
}

fn bureau() -> String {
    "银川市审批服务局".to_string()
}

/// A service point (受理点).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicePoint {
    /// Stable id, lowercase letters, digits and `-` (e.g. `yc-hall`).
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub level: PointLevel,
    /// GB/T 2260 region code (6 digits) of where the point is.
    pub region: String,
    pub address: String,
    #[serde(default)]
    pub address_en: String,
    /// WGS 84 latitude and longitude, for "near me".
    pub lat: f64,
    pub lon: f64,
    #[serde(default)]
    pub opens: Opening,
    /// Opening hours of an open day, `09:00-12:00`, in order.
    pub hours: Vec<String>,
    /// Whose power the point exercises (a park or a town handles delegated items in the bureau's name).
    #[serde(default = "bureau")]
    pub acts_for: String,
    /// The items handled here (implementation codes), or `*`.
    pub items: Vec<String>,
    #[serde(default)]
    pub windows: Vec<Window>,
    /// Appointments each window serving an item takes per slot.
    #[serde(default = "two")]
    pub bookings_per_window: u16,
    #[serde(default)]
    pub phone: String,
}

/// Who is called first: the classes of arrivals, each with a rank in the network's rules (lower first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorityClass {
    /// Arrived within the slot they booked.
    Appointment,
    /// At or above the network's `elderly_age` (from the resident ID number's birth date, or declared).
    Elderly,
    /// Declared disabled (残疾人), or accompanying one.
    Disabled,
    /// The item is 马上办 (on the spot).
    OnTheSpot,
    /// Everyone else.
    Normal,
}

impl PriorityClass {
    pub const ALL: [PriorityClass; 5] = [
        PriorityClass::Appointment,
        PriorityClass::Elderly,
        PriorityClass::Disabled,
        PriorityClass::OnTheSpot,
        PriorityClass::Normal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PriorityClass::Appointment => "appointment",
            PriorityClass::Elderly => "elderly",
            PriorityClass::Disabled => "disabled",
            PriorityClass::OnTheSpot => "on_the_spot",
            PriorityClass::Normal => "normal",
        }
    }

    pub fn parse(s: &str) -> Option<PriorityClass> {
        PriorityClass::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The letter numbers of this class start with: 预约 Y, 优先 P (elderly, disabled), 马上办 M, others A.
    pub fn prefix(self) -> char {
        match self {
            PriorityClass::Appointment => 'Y',
            PriorityClass::Elderly | PriorityClass::Disabled => 'P',
            PriorityClass::OnTheSpot => 'M',
            PriorityClass::Normal => 'A',
        }
    }
}

/// One priority rule: a class and its rank (1 is called first). Classes without a rule rank with `normal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityRule {
    pub class: PriorityClass,
    pub rank: u8,
}

fn thirty() -> u16 {
    30
}
fn sixty_five() -> u8 {
    65
}
fn three() -> u8 {
    3
}
fn ninety() -> u16 {
    90
}
fn fourteen() -> u16 {
    14
}
fn fifteen() -> u16 {
    15
}

/// The service network: every point, and the rules of appointments and the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Length of an appointment slot in minutes (10, 15, 20, 30 or 60).
    #[serde(default = "thirty")]
    pub slot_minutes: u16,
    /// An appointment counts as in its slot from this many minutes before its start to its end.
    #[serde(default = "fifteen")]
    pub early_minutes: u16,
    #[serde(default = "sixty_five")]
    pub elderly_age: u8,
    /// After this many no-shows within `no_show_window_days`, booking pauses for `booking_pause_days`.
    #[serde(default = "three")]
    pub no_show_limit: u8,
    #[serde(default = "ninety")]
    pub no_show_window_days: u16,
    #[serde(default = "fourteen")]
    pub booking_pause_days: u16,
    /// Days ahead one may book (today included).
    #[serde(default = "fourteen")]
    pub book_days_ahead: u16,
    #[serde(default)]
    pub priority: Vec<PriorityRule>,
    #[serde(default, rename = "point")]
    pub points: Vec<ServicePoint>,
}

impl Default for Network {
    fn default() -> Network {
        Network {
            slot_minutes: 30,
            early_minutes: 15,
            elderly_age: 65,
            no_show_limit: 3,
            no_show_window_days: 90,
            booking_pause_days: 14,
            book_days_ahead: 14,
            priority: Vec::new(),
            points: Vec::new(),
        }
    }
}

/// Parse `HH:MM`.
pub fn parse_hhmm(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

/// Parse `HH:MM-HH:MM` (the end after the start).
pub fn parse_span(s: &str) -> Option<(Time, Time)> {
    let (a, b) = s.split_once('-')?;
    let (a, b) = (parse_hhmm(a)?, parse_hhmm(b)?);
    (a < b).then_some((a, b))
}

/// `HH:MM` of a time.
pub fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn item_listed(list: &[String], item: &str) -> bool {
    list.iter().any(|i| i == ALL_ITEMS || i == item)
}

impl Window {
    /// Whether this window serves the item (the point must handle it too: see [`ServicePoint::windows_for`]).
    pub fn serves(&self, item: &str) -> bool {
        item_listed(&self.items, item)
    }
}

impl ServicePoint {
    pub fn handles(&self, item: &str) -> bool {
        item_listed(&self.items, item)
    }

    pub fn window(&self, no: &str) -> Option<&Window> {
        self.windows.iter().find(|w| w.no == no)
    }

    /// The windows serving an item here.
    pub fn windows_for<'a>(&'a self, item: &'a str) -> impl Iterator<Item = &'a Window> + 'a {
        let here = self.handles(item);
        self.windows.iter().filter(move |w| here && w.serves(item))
    }

    /// The sections of the point, in the order their first window appears.
    pub fn sections(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for w in &self.windows {
            if !out.contains(&w.section.as_str()) {
                out.push(&w.section);
            }
        }
        out
    }

    /// Appointments one slot takes for an item: windows serving it × bookings per window.
    pub fn capacity(&self, item: &str) -> u32 {
        self.windows_for(item).count() as u32 * u32::from(self.bookings_per_window)
    }

    /// Whether the point opens on a date.
    pub fn open_on(&self, calendar: &Calendar, date: Date) -> bool {
        match self.opens {
            Opening::EveryDay => true,
            Opening::WorkingDays => calendar.is_workday(date).unwrap_or(false),
        }
    }

    /// Whether the point is open at a local date and time: an open day (by [`ServicePoint::open_on`]) and within
    /// one of its spans (the start included, the end not).
    pub fn open_at(&self, calendar: &Calendar, date: Date, at: Time) -> bool {
        self.open_on(calendar, date) && self.spans().into_iter().any(|(a, b)| a <= at && at < b)
    }

    /// The opening spans of an open day.
    pub fn spans(&self) -> Vec<(Time, Time)> {
        self.hours.iter().filter_map(|h| parse_span(h)).collect()
    }

    /// The appointment slots of a date (start times), empty on a closed day. A slot must end within a span.
    pub fn slots_on(&self, calendar: &Calendar, date: Date, slot_minutes: u16) -> Vec<Time> {
        if !self.open_on(calendar, date) || slot_minutes == 0 {
            return Vec::new();
        }
        let step = time::Duration::minutes(i64::from(slot_minutes));
        let mut out = Vec::new();
        for (a, b) in self.spans() {
            let mut t = a;
            loop {
                let end = t + step;
                if end < t || end > b {
                    break;
                }
                out.push(t);
                t = end;
            }
        }
        out
    }

    /// Great-circle distance in km from a place (haversine, mean Earth radius).
    pub fn distance_km(&self, lat: f64, lon: f64) -> f64 {
        let r = 6371.0088_f64;
        let (p1, p2) = (self.lat.to_radians(), lat.to_radians());
        let dp = p2 - p1;
        let dl = (lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * r * a.sqrt().min(1.0).asin()
    }
}

/// Why a network document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NetworkError(pub String);

impl Network {
    pub fn parse(text: &str) -> Result<Network, NetworkError> {
        toml::from_str(text).map_err(|e| NetworkError(format!("network.toml: {e}")))
    }

    pub fn point(&self, id: &str) -> Option<&ServicePoint> {
        self.points.iter().find(|p| p.id == id)
    }

    /// Check the document against the catalog's item codes: ids, hours, windows, items, rules.
    pub fn validate(&self, items: &BTreeSet<String>) -> Result<(), NetworkError> {
        let bad = |m: String| Err(NetworkError(m));
        if ![10, 15, 20, 30, 60].contains(&self.slot_minutes) {
            return bad(format!("slot_minutes {} is not 10, 15, 20, 30 or 60", self.slot_minutes));
        }
        if self.early_minutes > 120 || !(1..=120).contains(&self.elderly_age) {
            return bad("early_minutes must be at most 120 and elderly_age 1–120".into());
        }
        if self.no_show_limit == 0 || self.no_show_window_days == 0 || !(1..=90).contains(&self.book_days_ahead) {
            return bad("no_show_limit and no_show_window_days must be positive, book_days_ahead 1–90".into());
        }
        let mut classes = BTreeSet::new();
        for r in &self.priority {
            if !classes.insert(r.class) {
                return bad(format!("priority class {} is listed twice", r.class.as_str()));
            }
        }
        let mut ids = BTreeSet::new();
        for p in &self.points {
            let ok_id = (2..=40).contains(&p.id.len())
                && p.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok_id {
                return bad(format!("point id {:?}: 2–40 lowercase letters, digits or -", p.id));
            }
            if !ids.insert(p.id.as_str()) {
                return bad(format!("point {} is listed twice", p.id));
            }
            let at = |m: &str| NetworkError(format!("point {}: {m}", p.id));
            if p.name.trim().is_empty() || p.address.trim().is_empty() {
                return Err(at("a name and an address are required"));
            }
            if p.region.len() != 6 || !p.region.bytes().all(|b| b.is_ascii_digit()) {
                return Err(at("region must be a 6-digit GB/T 2260 code"));
            }
            if !(-90.0..=90.0).contains(&p.lat) || !(-180.0..=180.0).contains(&p.lon) {
                return Err(at("lat/lon out of range"));
            }
            if p.hours.is_empty() {
                return Err(at("hours are required"));
            }
            let mut last: Option<Time> = None;
            for h in &p.hours {
                let Some((a, b)) = parse_span(h) else {
                    return Err(at(&format!("hours {h:?} are not HH:MM-HH:MM")));
                };
                if last.is_some_and(|l| a < l) {
                    return Err(at("hours must be in order and not overlap"));
                }
                last = Some(b);
            }
            for i in &p.items {
                if i != ALL_ITEMS && !items.contains(i) {
                    return Err(at(&format!("item {i} is not in the catalog")));
                }
            }
            if p.items.is_empty() {
                return Err(at("a point handles at least one item"));
            }
            let mut nos = BTreeSet::new();
            for w in &p.windows {
                if w.no.is_empty() || w.no.len() > 8 || !w.no.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(at(&format!("window {:?}: 1–8 letters or digits", w.no)));
                }
                if !nos.insert(w.no.as_str()) {
                    return Err(at(&format!("window {} is listed twice", w.no)));
                }
                if w.section.trim().is_empty() {
                    return Err(at(&format!("window {}: a section is required", w.no)));
                }
                for i in &w.items {
                    if i != ALL_ITEMS && !p.handles(i) {
                        return Err(at(&format!("window {} serves {i}, which the point does not handle", w.no)));
                    }
                }
            }
            if p.level == PointLevel::Kiosk && !p.windows.is_empty() {
                return Err(at("a kiosk site has no windows"));
            }
        }
        Ok(())
    }

    /// The rank of a class (lower is called first); classes without a rule rank with `normal` (or 100).
    pub fn rank_of(&self, class: PriorityClass) -> u8 {
        let find = |c: PriorityClass| self.priority.iter().find(|r| r.class == c).map(|r| r.rank);
        find(class).or_else(|| find(PriorityClass::Normal)).unwrap_or(100)
    }

    /// The class an arrival gets: the best-ranked of those that apply.
    pub fn classify(&self, a: &Arrival) -> (PriorityClass, u8) {
        let mut applies = vec![PriorityClass::Normal];
        if a.in_slot_appointment {
            applies.push(PriorityClass::Appointment);
        }
        if a.age.is_some_and(|x| x >= self.elderly_age) || a.declared_elderly {
            applies.push(PriorityClass::Elderly);
        }
        if a.disabled {
            applies.push(PriorityClass::Disabled);
        }
        if a.on_the_spot_item {
            applies.push(PriorityClass::OnTheSpot);
        }
        // A class without a rule is no class of its own: it ranks, and is shown, as normal.
        applies
            .into_iter()
            .filter(|c| *c == PriorityClass::Normal || self.priority.iter().any(|r| r.class == *c))
            .map(|c| (c, self.rank_of(c)))
            .min_by_key(|(c, r)| (*r, *c))
            .unwrap_or((PriorityClass::Normal, 100))
    }

    /// The points that handle an item, nearest first when a place is given (else by level, then id).
    pub fn points_for(&self, item: &str, near: Option<(f64, f64)>) -> Vec<&ServicePoint> {
        let mut v: Vec<&ServicePoint> = self.points.iter().filter(|p| p.handles(item)).collect();
        match near {
            Some((lat, lon)) => v.sort_by(|a, b| a.distance_km(lat, lon).total_cmp(&b.distance_km(lat, lon))),
            None => v.sort_by(|a, b| (a.level, &a.id).cmp(&(b.level, &b.id))),
        }
        v
    }

    /// Whether an arrival at `now_ms` is within a booked slot starting at `slot_start_ms`: from `early_minutes`
    /// before its start to its end.
    pub fn in_slot(&self, slot_start_ms: i64, now_ms: i64) -> bool {
        let early = i64::from(self.early_minutes) * 60_000;
        let len = i64::from(self.slot_minutes) * 60_000;
        now_ms >= slot_start_ms - early && now_ms < slot_start_ms + len
    }

    /// Until when booking is paused for someone with these no-show dates (`None`: may book), as of `today`.
    pub fn booking_paused_until(&self, no_shows: &[Date], today: Date) -> Option<Date> {
        let from = today - time::Duration::days(i64::from(self.no_show_window_days));
        let mut recent: Vec<Date> = no_shows.iter().copied().filter(|d| *d > from && *d <= today).collect();
        recent.sort();
        if recent.len() < usize::from(self.no_show_limit) {
            return None;
        }
        let last = *recent.last()?;
        let until = last + time::Duration::days(i64::from(self.booking_pause_days));
        (until > today).then_some(until)
    }
}

/// What is known of an arrival when it takes a number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Arrival {
    pub in_slot_appointment: bool,
    /// Age in whole years, from the resident ID number's birth date.
    pub age: Option<u8>,
    pub declared_elderly: bool,
    pub disabled: bool,
    pub on_the_spot_item: bool,
}

/// Age in whole years on `today` of someone born on `birth`.
pub fn age_on(birth: Date, today: Date) -> u8 {
    let mut years = today.year() - birth.year();
    if (today.month() as u8, today.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    u8::try_from(years.max(0)).unwrap_or(u8::MAX)
}

pub mod appointment;
pub mod queue;
pub mod sim;
pub mod stats;

pub use appointment::*;
pub use queue::*;

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn point() -> ServicePoint {
        ServicePoint {
            id: "yc-hall".into(),
            name: "银川市民大厅".into(),
            name_en: String::new(),
            level: PointLevel::City,
            region: "640100".into(),
            address: "银川市金凤区".into(),
            address_en: String::new(),
            lat: 38.4872,
            lon: 106.2309,
            opens: Opening::WorkingDays,
            hours: vec!["09:00-12:00".into(), "13:30-17:30".into()],
            acts_for: bureau(),
            items: vec!["*".into()],
            windows: vec![
                Window { no: "A01".into(), section: "综合受理".into(), items: all_items() },
                Window { no: "B01".into(), section: "工程建设".into(), items: vec!["X".into()] },
            ],
            bookings_per_window: 2,
            phone: String::new(),
        }
    }

    #[test]
    fn capacity_counts_the_windows_that_serve_the_item() {
        let p = point();
        assert_eq!(p.capacity("X"), 4);
        assert_eq!(p.capacity("Y"), 2);
    }

    #[test]
    fn spans_and_slots() {
        assert_eq!(parse_span("09:00-12:00").map(|(a, b)| (hhmm(a), hhmm(b))), Some(("09:00".into(), "12:00".into())));
        assert_eq!(parse_span("12:00-09:00"), None);
        assert_eq!(parse_span("9:00-12:00"), None);
        assert_eq!(parse_hhmm("13:30").map(hhmm), Some("13:30".into()));
        assert_eq!(parse_hhmm("25:00"), None);
    }

    #[test]
    fn priority_rules_are_data() {
        let mut net = Network::default();
        assert_eq!(net.classify(&Arrival { disabled: true, ..Arrival::default() }).0, PriorityClass::Normal);
        net.priority = vec![
            PriorityRule { class: PriorityClass::Appointment, rank: 1 },
            PriorityRule { class: PriorityClass::Elderly, rank: 2 },
            PriorityRule { class: PriorityClass::Disabled, rank: 2 },
            PriorityRule { class: PriorityClass::Normal, rank: 5 },
        ];
        let old = Arrival { age: Some(70), in_slot_appointment: true, ..Arrival::default() };
        assert_eq!(net.classify(&old), (PriorityClass::Appointment, 1));
        assert_eq!(net.classify(&Arrival { age: Some(65), ..Arrival::default() }), (PriorityClass::Elderly, 2));
        assert_eq!(net.classify(&Arrival { age: Some(64), ..Arrival::default() }), (PriorityClass::Normal, 5));
        // 马上办 has no rule here: it ranks with normal.
        assert_eq!(net.classify(&Arrival { on_the_spot_item: true, ..Arrival::default() }).1, 5);
    }

    #[test]
    fn no_shows_pause_booking() {
        let net = Network::default();
        let d = |s: &str| match crate::calendar::parse_date(s) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let today = d("2026-06-01");
        assert_eq!(net.booking_paused_until(&[d("2026-05-01"), d("2026-05-10")], today), None);
        let three = [d("2026-05-01"), d("2026-05-10"), d("2026-05-25")];
        assert_eq!(net.booking_paused_until(&three, today), Some(d("2026-06-08")));
        assert_eq!(net.booking_paused_until(&three, d("2026-06-08")), None);
        // Outside the 90-day window they no longer count.
        let old = [d("2026-01-01"), d("2026-05-10"), d("2026-05-25")];
        assert_eq!(net.booking_paused_until(&old, today), None);
    }

    #[test]
    fn ages_count_whole_years() {
        let d = |y, m, day| match Date::from_calendar_date(
            y,
            time::Month::try_from(m).unwrap_or(time::Month::January),
            day,
        ) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(age_on(d(1961, 3, 2), d(2026, 3, 1)), 64);
        assert_eq!(age_on(d(1961, 3, 2), d(2026, 3, 2)), 65);
    }

    #[test]
    fn distance_is_the_great_circle() {
        let p = point();
        // Yinchuan to Beijing (39.9042, 116.4074): about 890 km by the great circle.
        let km = p.distance_km(39.9042, 116.4074);
        assert!((850.0..930.0).contains(&km), "{km}");
        assert!(p.distance_km(p.lat, p.lon) < 1e-6);
    }
}
