//! The flowchart of a process definition as a self-contained SVG for the guide pages (流程图).
//!
//! One box per step, top to bottom; a joint review fans out into one box per department and joins again;
//! a conditional step is drawn dashed with its condition.

use std::fmt::Write;

use crate::catalog::{JointMode, ProcessDefinition, StepKind};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const W: i32 = 520;
const BOX_W: i32 = 300;
const BOX_H: i32 = 54;
const GAP: i32 = 34;

/// Render the process. `department_name` turns a department id into its display name.
pub fn render(p: &ProcessDefinition, department_name: &dyn Fn(&str) -> String) -> String {
    let mut body = String::new();
    let mut y = 20;
    let cx = W / 2;
    for (i, s) in p.steps.iter().enumerate() {
        if i > 0 {
            arrow(&mut body, cx, y - GAP, y);
        }
        let dashed = if s.condition.is_some() { " stroke-dasharray=\"6 4\"" } else { "" };
        let who = match (&s.department, s.kind) {
            (Some(d), _) => department_name(d.as_str()),
            (None, StepKind::Accept) => "任一综合窗口 any general window".to_string(),
            (None, _) => String::new(),
        };
        if s.kind == StepKind::JointReview && !s.departments.is_empty() {
            let mode = match s.joint_mode {
                Some(JointMode::Any) => "或签 any one signs",
                _ => "会签 all must sign",
            };
            let _ = write!(
                body,
                r#"<text x="{cx}" y="{}" text-anchor="middle" class="t">{} · {}</text>"#,
                y + 14,
                esc(&s.name),
                mode
            );
            y += 24;
            let n = s.departments.len() as i32;
            let bw = ((W - 20) / n - 10).min(BOX_W);
            let total = n * (bw + 10) - 10;
            let x0 = cx - total / 2;
            for (j, d) in s.departments.iter().enumerate() {
                let x = x0 + j as i32 * (bw + 10);
                let _ = write!(
                    body,
                    r#"<rect x="{x}" y="{y}" width="{bw}" height="{BOX_H}" rx="6" class="b j"{dashed}/><text x="{}" y="{}" text-anchor="middle" class="s">{}</text>"#,
                    x + bw / 2,
                    y + BOX_H / 2 + 5,
                    esc(&department_name(d.as_str()))
                );
            }
            y += BOX_H + GAP;
            continue;
        }
        let x = cx - BOX_W / 2;
        let _ = write!(
            body,
            r#"<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" class="b k-{kind}"{dashed}/><text x="{cx}" y="{}" text-anchor="middle" class="t">{}</text><text x="{cx}" y="{}" text-anchor="middle" class="s">{}{}</text>"#,
            y + 22,
            esc(&s.name),
            y + 42,
            esc(&who),
            if s.share_days > 0 { format!(" · {} 个工作日", s.share_days) } else { String::new() },
            kind = kind_name(s.kind),
        );
        if let Some(c) = &s.condition {
            let _ = write!(
                body,
                r#"<text x="{}" y="{}" class="c">仅当 if {}</text>"#,
                x + BOX_W + 6,
                y + 32,
                esc(&c.field)
            );
        }
        y += BOX_H + GAP;
    }
    let h = y - GAP + 20;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="办理流程图 process flowchart"><style>.b{{fill:#fff;stroke:#1f4e8c;stroke-width:2}}.j{{fill:#eef4fb}}.k-decision{{fill:#fdf2f2;stroke:#b3261e}}.t{{font:600 15px sans-serif;fill:#1a1a1a}}.s{{font:13px sans-serif;fill:#444}}.c{{font:12px sans-serif;fill:#8a5a00}}.a{{stroke:#1f4e8c;stroke-width:2;marker-end:url(#h)}}</style><defs><marker id="h" markerWidth="10" markerHeight="10" refX="8" refY="5" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#1f4e8c"/></marker></defs>{body}</svg>"##
    )
}

fn arrow(out: &mut String, x: i32, y1: i32, y2: i32) {
    let _ = write!(out, r#"<line x1="{x}" y1="{y1}" x2="{x}" y2="{}" class="a"/>"#, y2 - 2);
}

fn kind_name(k: StepKind) -> &'static str {
    match k {
        StepKind::Accept => "accept",
        StepKind::Review => "review",
        StepKind::JointReview => "joint",
        StepKind::Inspection => "inspection",
        StepKind::Decision => "decision",
        StepKind::LicenseIssuance => "license",
        StepKind::Delivery => "delivery",
    }
}
