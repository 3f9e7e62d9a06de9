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

/// CSV field quoting (RFC 4180).
fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
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
            "id,kind,level,case_no,department,person,title,detail,raised_at,status,closed_at,closed_by,note\n",
        );
        let t = |ms: i64| from_ms(ms).format(&Rfc3339).unwrap_or_default();
        for a in rows {
            let fields = [
                a.id,
                a.kind,
                a.level,
                a.case_no,
                a.department,
                a.person.unwrap_or_default(),
                a.title,
                a.detail,
                t(a.raised_at_ms),
                a.status,
                a.closed_at_ms.map(t).unwrap_or_default(),
                a.closed_by.unwrap_or_default(),
                a.note.unwrap_or_default(),
            ];
            out.push_str(&fields.iter().map(|f| csv(f)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        Ok(out)
    }
}
