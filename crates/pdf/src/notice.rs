//! Notices handed to applicants at the window (受理通知书, 一次性告知书 …): A4, a title, a document number, the
//! addressee, numbered paragraphs, the bureau's seal and date. The caller writes the text (it knows the law and
//! the language); this lays it out.

use crate::{Doc, Info, PdfError, Rgb, Style, A4, GREY};

#[derive(Debug, Clone)]
pub struct Notice {
    pub title: String,
    /// e.g. 银审受〔2026〕YC202611270000002号
    pub number: String,
    /// The addressee line: "银川塞上餐饮有限公司：".
    pub to: String,
    pub paragraphs: Vec<String>,
    /// Numbered items (the problems of a correction notice), shown after the paragraphs.
    pub items: Vec<String>,
    pub closing: Vec<String>,
    pub issuer: String,
    pub date: (u16, u8, u8),
    pub seal_text: String,
    pub file_id: [u8; 16],
}

const LEFT: f32 = 72.0;
const RIGHT: f32 = A4.0 - 72.0;

pub fn render(n: &Notice) -> Result<Vec<u8>, PdfError> {
    let mut doc = Doc::new(Info {
        title: n.title.clone(),
        subject: n.number.clone(),
        author: n.issuer.clone(),
        created: Some(n.date),
        file_id: n.file_id,
        extra: vec![],
    })?;
    doc.new_page();
    doc.text_centered(A4.0 / 2.0, 760.0, &n.title, Style::new(22.0).bold().spacing(4.0).color(Rgb(0.7, 0.05, 0.08)));
    doc.text_centered(A4.0 / 2.0, 736.0, &n.number, Style::new(10.5).color(GREY));
    doc.line((LEFT, 724.0), (RIGHT, 724.0), 1.2, Rgb(0.7, 0.05, 0.08));
    let body = Style::new(12.0);
    let leading = 21.0;
    let mut y = 696.0;
    doc.text(LEFT, y, &n.to, body);
    y -= leading * 1.4;
    let put = |doc: &mut Doc, text: &str, indent: f32, y: &mut f32| {
        for (i, line) in doc.wrap(text, RIGHT - LEFT - indent, body).iter().enumerate() {
            if *y < 150.0 {
                doc.new_page();
                *y = 780.0;
            }
            let x = if i == 0 { LEFT + indent } else { LEFT + indent.min(12.0) };
            doc.text(x, *y, line, body);
            *y -= leading;
        }
    };
    for p in &n.paragraphs {
        put(&mut doc, p, 24.0, &mut y);
    }
    for (i, item) in n.items.iter().enumerate() {
        put(&mut doc, &format!("{}. {item}", i + 1), 24.0, &mut y);
    }
    for p in &n.closing {
        put(&mut doc, p, 24.0, &mut y);
    }
    let (yy, m, d) = n.date;
    let date = format!("{yy}年{m}月{d}日");
    let base = (y - 60.0).clamp(110.0, 200.0);
    doc.text_right(RIGHT, base + 24.0, &n.issuer, Style::new(12.5));
    doc.text_right(RIGHT, base, &date, Style::new(12.5));
    doc.seal(RIGHT - 70.0, base + 18.0, 58.0, &n.issuer, &n.seal_text);
    doc.finish()
}
