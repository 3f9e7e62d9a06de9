//! Application forms (申请表) printed from an item's form schema: a blank one to fill in by hand, and a sample
//! (示范文本) filled with example values under a "样表 SAMPLE" watermark. Generated, so they always match the
//! published form.

use crate::{Doc, Info, PdfError, Rgb, Style, A4, GREY};

/// One line of a form.
#[derive(Debug, Clone)]
pub struct FormLine {
    pub label: String,
    pub label_en: String,
    pub required: bool,
    /// Choices to tick, for choice and yes/no fields.
    pub options: Vec<String>,
    /// Rows of writing space (1 for short fields, 3 for long text).
    pub rows: u8,
    /// The example value (samples only).
    pub value: Option<String>,
}

/// A form to print.
#[derive(Debug, Clone)]
pub struct FormSheet {
    pub title: String,
    pub subtitle: String,
    pub lines: Vec<FormLine>,
    /// Materials to attach, listed at the end.
    pub materials: Vec<String>,
    pub sample: bool,
    pub labels: FormLabels,
    pub file_id: [u8; 16],
}

/// The fixed texts of the form (the caller translates them).
#[derive(Debug, Clone)]
pub struct FormLabels {
    pub required_mark: String,
    pub materials: String,
    pub signature: String,
    pub date: String,
    pub watermark: String,
}

const LEFT: f32 = 56.0;
const RIGHT: f32 = A4.0 - 56.0;
const LABEL_W: f32 = 170.0;
const LINE: Rgb = Rgb(0.45, 0.45, 0.45);

/// Render a form.
pub fn render(sheet: &FormSheet) -> Result<Vec<u8>, PdfError> {
    let mut doc = Doc::new(Info {
        title: sheet.title.clone(),
        subject: sheet.subtitle.clone(),
        author: String::new(),
        created: None,
        file_id: sheet.file_id,
        extra: vec![],
    })?;
    let mut top = new_page(&mut doc, sheet, true);
    for l in &sheet.lines {
        let value_lines = l
            .value
            .as_deref()
            .map(|v| doc.wrap(v, RIGHT - LEFT - LABEL_W - 12.0, Style::new(10.5)))
            .unwrap_or_default();
        let mark = if l.required { sheet.labels.required_mark.as_str() } else { "" };
        let label_lines = doc.wrap(&format!("{}{mark}", l.label), LABEL_W - 12.0, Style::new(10.0));
        let en_lines = doc.wrap(&l.label_en, LABEL_W - 12.0, Style::new(6.5));
        let rows = f32::from(l.rows.max(1)).max(value_lines.len() as f32);
        let label_h = label_lines.len() as f32 * 12.5 + en_lines.len() as f32 * 8.0 + 10.0;
        let height = (14.0 + rows * 18.0 + if l.options.is_empty() { 0.0 } else { 16.0 }).max(label_h);
        if top - height < 120.0 {
            top = new_page(&mut doc, sheet, false);
        }
        doc.rect(LEFT, top - height, RIGHT - LEFT, height, 0.6, LINE);
        doc.line((LEFT + LABEL_W, top), (LEFT + LABEL_W, top - height), 0.6, LINE);
        let mut ly = top - 15.0;
        for s in &label_lines {
            doc.text(LEFT + 6.0, ly, s, Style::new(10.0));
            ly -= 12.5;
        }
        ly += 3.0;
        for s in &en_lines {
            doc.text(LEFT + 6.0, ly, s, Style::new(6.5).color(GREY));
            ly -= 8.0;
        }
        let mut vy = top - 16.0;
        if !l.options.is_empty() {
            let mut x = LEFT + LABEL_W + 8.0;
            for o in &l.options {
                let ticked = l.value.as_deref() == Some(o.as_str());
                doc.rect(x, vy - 1.0, 8.0, 8.0, 0.6, Rgb(0.0, 0.0, 0.0));
                if ticked {
                    doc.fill_rect(x + 1.5, vy + 0.5, 5.0, 5.0, Rgb(0.1, 0.1, 0.1));
                }
                doc.text(x + 11.0, vy, o, Style::new(9.5));
                x += doc.width(o, Style::new(9.5)) + 26.0;
                if x > RIGHT - 60.0 {
                    x = LEFT + LABEL_W + 8.0;
                    vy -= 16.0;
                }
            }
        } else {
            for v in &value_lines {
                doc.text(LEFT + LABEL_W + 8.0, vy, v, Style::new(10.5).color(Rgb(0.05, 0.2, 0.55)));
                vy -= 18.0;
            }
        }
        top -= height;
    }
    // Materials and signature.
    if top - (40.0 + sheet.materials.len() as f32 * 14.0) < 110.0 {
        top = new_page(&mut doc, sheet, false);
    }
    top -= 24.0;
    doc.text(LEFT, top, &sheet.labels.materials, Style::new(11.0).bold());
    for (i, m) in sheet.materials.iter().enumerate() {
        top -= 15.0;
        doc.text(LEFT + 6.0, top, &format!("□ {}. {m}", i + 1), Style::new(9.5));
    }
    doc.text(LEFT, 86.0, &format!("{}  ______________________", sheet.labels.signature), Style::new(10.5));
    doc.text(RIGHT - 170.0, 86.0, &format!("{}  ______年____月____日", sheet.labels.date), Style::new(10.5));
    doc.finish()
}

fn new_page(doc: &mut Doc, sheet: &FormSheet, first: bool) -> f32 {
    doc.new_page();
    if sheet.sample {
        // A light diagonal watermark under everything else on the page.
        let s = Style::new(72.0).color(Rgb(0.9, 0.9, 0.9));
        let (c, sn) = (std::f32::consts::FRAC_1_SQRT_2, std::f32::consts::FRAC_1_SQRT_2);
        doc.text_matrix([c, sn, -sn, c, 150.0, 250.0], &sheet.labels.watermark, s);
    }
    if first {
        doc.text_centered(A4.0 / 2.0, 780.0, &sheet.title, Style::new(18.0).bold());
        doc.text_centered(A4.0 / 2.0, 760.0, &sheet.subtitle, Style::new(9.0).color(GREY));
        740.0
    } else {
        doc.text(LEFT, 790.0, &sheet.title, Style::new(9.0).color(GREY));
        775.0
    }
}
