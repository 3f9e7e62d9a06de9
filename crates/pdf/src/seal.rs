//! The round red seal (公章样式), drawn from the bureau's name: a ring, the name along the upper arc reading
//! clockwise with each character upright towards the rim, a five-pointed star in the centre and one horizontal
//! line below it. Vector only; no emblem is copied.

use std::f32::consts::PI;

use crate::{Doc, Style, SEAL_RED};

pub(crate) fn draw(doc: &mut Doc, cx: f32, cy: f32, r: f32, name: &str, bottom: &str) {
    let ring = r * 0.055;
    let red = SEAL_RED;
    // The ring: a circle of four Bézier quarter arcs.
    {
        let page = doc.content();
        page.save_state();
        page.set_stroke_rgb(red.0, red.1, red.2);
        page.set_line_width(ring);
        circle(page, cx, cy, r - ring / 2.0);
        page.stroke();
        page.restore_state();
    }
    // The name along the upper arc.
    let chars: Vec<char> = name.chars().collect();
    let n = chars.len().max(1) as f32;
    let size = (r * 0.27).min(r * 2.6 / n.max(6.0) * 1.9);
    let radius = r - ring - size * 0.62;
    let step = (size * 1.12 / radius).min((250.0_f32).to_radians() / (n - 1.0).max(1.0));
    let span = step * (n - 1.0);
    let style = Style::new(size).color(red).bold();
    for (i, c) in chars.iter().enumerate() {
        let theta = PI / 2.0 + span / 2.0 - step * i as f32;
        let (v, u) = ((theta.cos(), theta.sin()), (theta.sin(), -theta.cos()));
        let s = c.to_string();
        let w = doc.width(&s, style);
        let (px, py) = (cx + radius * v.0, cy + radius * v.1);
        // Centre the glyph's ideographic box (≈ −0.12 … 0.88 em) on the arc point.
        let ox = px - w / 2.0 * u.0 - size * 0.38 * v.0;
        let oy = py - w / 2.0 * u.1 - size * 0.38 * v.1;
        doc.text_matrix([u.0, u.1, v.0, v.1, ox, oy], &s, style);
    }
    // The star.
    {
        let page = doc.content();
        let (outer, inner) = (r * 0.27, r * 0.27 * 0.382);
        page.set_fill_rgb(red.0, red.1, red.2);
        for k in 0..10 {
            let a = PI / 2.0 + k as f32 * PI / 5.0;
            let rr = if k % 2 == 0 { outer } else { inner };
            let (x, y) = (cx + rr * a.cos(), cy + rr * a.sin());
            if k == 0 {
                page.move_to(x, y);
            } else {
                page.line_to(x, y);
            }
        }
        page.close_path();
        page.fill_nonzero();
    }
    if !bottom.is_empty() {
        let bs = r * 0.17;
        doc.text_centered(cx, cy - r * 0.58, bottom, Style::new(bs).color(red).bold());
    }
}

fn circle(page: &mut pdf_writer::Content, cx: f32, cy: f32, r: f32) {
    // The standard cubic approximation constant for a quarter circle.
    let k = 0.552_284_8 * r;
    page.move_to(cx + r, cy);
    page.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    page.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    page.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    page.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    page.close_path();
}
