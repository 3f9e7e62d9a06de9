//! Exports for analysis: the case event log as XES (IEEE 1849) for process mining, and the alerts as CSV.
//! Only what analysis needs leaves: event names, times, the handling staff account (an applicant appears as
//! `applicant`), the service, the department — no personal data.

use std::collections::BTreeMap;
use std::fmt::Write;

use oneseal_store::AlertFilter;
use time::format_description::well_known::Rfc3339;

use crate::{from_ms, App, AppError};

/// XML text escaping.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// One CSV cell (RFC 4180), always quoted, with spreadsheet formulas neutralised: a cell that is not a plain
/// number and starts with `=`, `+`, `-`, `@`, a tab or a carriage return (or their full-width forms, which some
/// spreadsheets also read as formulas) gets a leading `'`, so a citizen's words are shown, never evaluated
/// (OWASP, CSV injection).
pub fn csv_cell(s: &str) -> String {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠']);
    let number = s.trim().parse::<f64>().is_ok_and(f64::is_finite) && !s.starts_with(['\t', '\r']);
    let s = if risky && !number { format!("'{s}") } else { s.to_string() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl App {
    /// Every case's events as one XES log: a trace per case (`concept:name` = case number, with its service and
    /// department), an event per case event in order (`concept:name` = event type, `time:timestamp`,
    /// `org:resource`, `lifecycle:transition` = complete).
    pub async fn export_xes(&self) -> Result<String, AppError> {
        let (cases, events) = self
            .store
            .read(|db| -> Result<_, AppError> {
                let mut traces: BTreeMap<String, Vec<oneseal_store::StoredEvent>> = BTreeMap::new();
                let mut after = 0;
                loop {
                    let batch = db.read_from(after, 5000)?;
                    let Some(last) = batch.last().map(|e| e.seq) else { break };
                    after = last;
                    for e in batch {
                        if let Some(no) = e.stream_id.strip_prefix("case-") {
                            traces.entry(no.to_string()).or_default().push(e);
                        }
                    }
                }
                let mut meta = BTreeMap::new();
                for no in traces.keys() {
                    if let Some(row) = db.get_case(no)? {
                        meta.insert(no.clone(), (row.title, row.department, row.applicant_account));
                    }
                }
                Ok((meta, traces))
            })
            .await?;
        let mut out = String::new();
        let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let _ = writeln!(
            out,
            r#"<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">"#
        );
        for (prefix, name, uri) in [
            ("concept", "Concept", "http://www.xes-standard.org/concept.xesext"),
            ("time", "Time", "http://www.xes-standard.org/time.xesext"),
            ("org", "Organizational", "http://www.xes-standard.org/org.xesext"),
            ("lifecycle", "Lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
        ] {
            let _ = writeln!(out, r#"  <extension name="{name}" prefix="{prefix}" uri="{uri}"/>"#);
        }
        let _ = writeln!(out, r#"  <string key="concept:name" value="OneSeal cases"/>"#);
        for (no, evs) in &events {
            let (title, dept, applicant) = cases.get(no).cloned().unwrap_or_default();
            let _ = writeln!(out, "  <trace>");
            let _ = writeln!(out, r#"    <string key="concept:name" value="{}"/>"#, xml(no));
            let _ = writeln!(out, r#"    <string key="service" value="{}"/>"#, xml(&title));
            let _ = writeln!(out, r#"    <string key="department" value="{}"/>"#, xml(&dept));
            for e in evs {
                let at = from_ms(e.at_ms).format(&Rfc3339).unwrap_or_default();
                let resource =
                    if applicant.as_deref() == Some(e.actor.as_str()) { "applicant" } else { e.actor.as_str() };
                let _ = writeln!(out, "    <event>");
                let _ = writeln!(out, r#"      <string key="concept:name" value="{}"/>"#, xml(&e.event_type));
                let _ = writeln!(out, r#"      <date key="time:timestamp" value="{at}"/>"#);
                let _ = writeln!(out, r#"      <string key="org:resource" value="{}"/>"#, xml(resource));
                let _ = writeln!(out, r#"      <string key="lifecycle:transition" value="complete"/>"#);
                let _ = writeln!(out, "    </event>");
            }
            let _ = writeln!(out, "  </trace>");
        }
        let _ = writeln!(out, "</log>");
        Ok(out)
    }

    /// The alerts as CSV (UTF-8 with a header row), newest first.
    pub async fn export_alerts_csv(&self) -> Result<String, AppError> {
        let rows = self
            .store
            .read(|db| db.alerts(&AlertFilter { limit: 1_000_000, ..Default::default() }).map_err(AppError::from))
            .await?
            .0;
        let mut out = String::from(
            "id,kind,level,case_no,department,person,title,detail,raised_at,status,closed_at,closed_by,note,project_code\n",
        );
        let t = |ms: i64| from_ms(ms).format(&Rfc3339).unwrap_or_default();
        for a in rows {
            let fields = [
                a.id,
                a.kind,
                a.level,
                a.case_no.unwrap_or_default(),
                a.department,
                a.person.unwrap_or_default(),
                a.title,
                a.detail,
                t(a.raised_at_ms),
                a.status,
                a.closed_at_ms.map(t).unwrap_or_default(),
                a.closed_by.unwrap_or_default(),
                a.note.unwrap_or_default(),
                a.project_code.unwrap_or_default(),
            ];
            out.push_str(&fields.iter().map(|f| csv_cell(f)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        Ok(out)
    }
}

#[cfg(test)]
mod csv_tests {
    use super::csv_cell;

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        for (raw, cell) in [
            ("=HYPERLINK(\"http://evil\")", "\"'=HYPERLINK(\"\"http://evil\"\")\""),
            ("+1+cmd|' /C calc'!A0", "\"'+1+cmd|' /C calc'!A0\""),
            ("-2+3", "\"'-2+3\""),
            ("@SUM(A1)", "\"'@SUM(A1)\""),
            ("\t=1", "\"'\t=1\""),
            ("\r=1", "\"'\r=1\""),
            ("＝1+1", "\"'＝1+1\""),
            ("-12.5", "\"-12.5\""),
            ("+7", "\"+7\""),
            ("垃圾堆放, \"无人\"清理", "\"垃圾堆放, \"\"无人\"\"清理\""),
            ("", "\"\""),
        ] {
            assert_eq!(csv_cell(raw), cell, "{raw:?}");
        }
    }
}
