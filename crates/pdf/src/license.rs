//! The printable electronic licence (电子证照打印版): A4 portrait; the licence name as the title, the licence
//! number, every field of the licence type in its catalog order (continuation pages when long), the issuing
//! authority and date under the bureau's red seal, the offline-verifiable QR code, and the GB/T 36904 identifier.
//! The QR text is also written to the Info dictionary (`/OneSealQR`) so that `oneseal license verify` can check
//! a PDF without rasterising it.

use crate::{Doc, Info, PdfError, QrInfo, Rgb, Style, A4, GREY};

/// Everything printed on a licence.
#[derive(Debug, Clone)]
pub struct LicenseSheet {
    pub title: String,
    pub title_en: String,
    pub number: String,
    pub identifier: String,
    pub fields: Vec<SheetField>,
    pub issuer: String,
    /// Issue date (Beijing): year, month, day.
    pub issued: (u16, u8, u8),
    pub qr: String,
    pub verify_url: String,
    /// The line under the seal's star (e.g. 行政审批专用章).
    pub seal_text: String,
    pub file_id: [u8; 16],
}

#[derive(Debug, Clone)]
pub struct SheetField {
    pub label: String,
    pub label_en: String,
    pub value: String,
}

/// A rendered licence.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub qr: QrInfo,
    pub pages: usize,
    /// Characters the font lacks (printed as blank boxes; the text layer keeps them).
    pub missing: Vec<char>,
}

/// The Info key holding the QR text.
pub const QR_INFO_KEY: &str = "OneSealQR";

const FRAME: Rgb = Rgb(0.55, 0.12, 0.10);
const LEFT: f32 = 62.0;
const RIGHT: f32 = A4.0 - 62.0;
const VALUE_X: f32 = 208.0;
const BOTTOM_LAST: f32 = 236.0;
const BOTTOM_OTHER: f32 = 64.0;

fn frame(doc: &mut Doc) {
    doc.rect(28.0, 28.0, A4.0 - 56.0, A4.1 - 56.0, 2.4, FRAME);
    doc.rect(34.0, 34.0, A4.0 - 68.0, A4.1 - 68.0, 0.6, FRAME);
}

/// Render a licence.
pub fn render(sheet: &LicenseSheet) -> Result<Rendered, PdfError> {
    let (y, m, d) = sheet.issued;
    let mut doc = Doc::new(Info {
        title: format!("{} {}", sheet.title, sheet.number),
        subject: format!("电子证照 {}", sheet.identifier),
        author: sheet.issuer.clone(),
        created: Some(sheet.issued),
        file_id: sheet.file_id,
        extra: vec![(QR_INFO_KEY.into(), sheet.qr.clone())],
    })?;
    doc.new_page();
    frame(&mut doc);

    // Title: wide letter spacing for short names, smaller type for long ones.
    let n = sheet.title.chars().count();
    let spacing = match n {
        0..=4 => 14.0,
        5..=7 => 6.0,
        _ => 1.0,
    };
    let mut size = 30.0;
    while size > 16.0 && doc.width(&sheet.title, Style::new(size).spacing(spacing)) > RIGHT - LEFT {
        size -= 1.0;
    }
    doc.text_centered(A4.0 / 2.0, 742.0, &sheet.title, Style::new(size).bold().spacing(spacing));
    doc.text_centered(A4.0 / 2.0, 718.0, &sheet.title_en, Style::new(10.0).color(GREY));
    doc.text(LEFT, 776.0, &format!("证照编号 No. {}", sheet.number), Style::new(9.5));
    doc.line((LEFT, 704.0), (RIGHT, 704.0), 0.8, FRAME);

    let value_style = Style::new(11.0);
    let leading = 14.5;
    let continuation = |doc: &mut Doc| {
        doc.new_page();
        frame(doc);
        doc.text(LEFT, 776.0, &format!("{}（续页）Continued · {}", sheet.title, sheet.number), Style::new(9.5));
        doc.line((LEFT, 764.0), (RIGHT, 764.0), 0.8, FRAME);
        750.0
    };
    let mut top = 690.0;
    for f in &sheet.fields {
        let lines = doc.wrap(&f.value, RIGHT - VALUE_X, value_style);
        let label_lines = doc.wrap(&f.label, VALUE_X - LEFT - 8.0, Style::new(10.0));
        let label_h = label_lines.len() as f32 * 12.0 + 9.0;
        if top - label_h.max(leading) - 8.0 < BOTTOM_OTHER {
            top = continuation(&mut doc);
        }
        let mut ly = top - 12.0;
        for l in &label_lines {
            doc.text(LEFT, ly, l, Style::new(10.0));
            ly -= 12.0;
        }
        doc.text(LEFT, ly + 3.0, &f.label_en, Style::new(6.5).color(GREY));
        // Values longer than the page continue on the next one, line by line.
        let mut label_bottom = top - label_h;
        let mut vy = top - 12.5;
        for l in &lines {
            if vy < BOTTOM_OTHER {
                vy = continuation(&mut doc) - 12.5;
                label_bottom = f32::MAX;
            }
            doc.text(VALUE_X, vy, l, value_style);
            vy -= leading;
        }
        top = label_bottom.min(vy + leading - 2.0) - 6.0;
        doc.line((LEFT, top + 3.0), (RIGHT, top + 3.0), 0.3, Rgb(0.75, 0.75, 0.75));
    }
    // The seal and QR block needs the foot of the last page.
    if top < BOTTOM_LAST {
        continuation(&mut doc);
    }

    // The QR code and how to verify.
    let qr = doc.qr(LEFT - 6.0, 66.0, 140.0, &sheet.qr)?;
    doc.text_centered(LEFT + 64.0, 56.0, "扫码核验 Scan to verify", Style::new(8.0));
    // The issuing authority and date, under the seal.
    let date = format!("{y}年{m}月{d}日");
    doc.text(300.0, 184.0, "发证机关 Issuing authority", Style::new(8.5).color(GREY));
    doc.text(300.0, 160.0, &sheet.issuer, Style::new(14.0));
    doc.text(300.0, 136.0, &date, Style::new(12.0));
    doc.text(300.0, 118.0, &format!("{y}-{m:02}-{d:02}"), Style::new(8.5).color(GREY));
    doc.seal(400.0, 150.0, 64.0, &sheet.issuer, &sheet.seal_text);
    doc.text(206.0, 84.0, "电子证照标识 Licence identifier", Style::new(7.0).color(GREY));
    doc.text(206.0, 74.0, &sheet.identifier, Style::new(7.5));
    let url_lines = doc.wrap(&sheet.verify_url, RIGHT - 206.0, Style::new(7.0));
    let mut uy = 60.0;
    for l in url_lines.iter().take(2) {
        doc.text(206.0, uy, l, Style::new(7.0).color(GREY));
        uy -= 9.0;
    }
    let pages = doc.page_count();
    let missing = doc.missing_chars().iter().copied().collect();
    Ok(Rendered { bytes: doc.finish()?, qr, pages, missing })
}
