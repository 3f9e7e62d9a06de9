//! Printable documents (A4 PDF): a small drawing surface over `pdf-writer` with one embedded CJK font
//! (Noto Sans CJK SC, reduced at vendoring time by `tools/vendor_font.py`, subset per document by `subsetter`),
//! vector QR codes (`qrcode`), and the bureau's red seal drawn from its name. Pure: no clock, no IO; the same
//! input always gives the same bytes (no timestamps but the ones the caller passes, a file ID from the caller).
//!
//! Layouts of our own documents live here too: [`license::render`] for electronic licences.

pub mod form;
pub mod license;
pub mod notice;
mod seal;

use std::collections::{BTreeMap, BTreeSet};

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, TextRenderingMode, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use subsetter::GlyphRemapper;

/// The vendored font (SIL OFL 1.1; see assets/fonts/OFL.txt).
pub static FONT: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-OneSeal.otf");
/// The font's licence text, shipped with it.
pub static FONT_LICENSE: &str = include_str!("../../../assets/fonts/OFL.txt");

/// A4 in points.
pub const A4: (f32, f32) = (595.276, 841.89);

/// Why a document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the embedded font cannot be read: {0}")]
    Font(String),
    #[error("the QR payload does not fit a QR code at ECC level Q: {0}")]
    QrTooLong(String),
    #[error("the document has no page")]
    Empty,
}

/// An RGB colour, components 0–1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb(pub f32, pub f32, pub f32);

pub const BLACK: Rgb = Rgb(0.0, 0.0, 0.0);
pub const GREY: Rgb = Rgb(0.35, 0.35, 0.35);
/// Seal red (印泥红).
pub const SEAL_RED: Rgb = Rgb(0.84, 0.05, 0.08);

/// How a run of text is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub size: f32,
    pub color: Rgb,
    /// Faux bold: fill and stroke the outlines.
    pub bold: bool,
    /// Extra space after each character, in points.
    pub spacing: f32,
}

impl Style {
    pub fn new(size: f32) -> Style {
        Style { size, color: BLACK, bold: false, spacing: 0.0 }
    }
    pub fn color(self, color: Rgb) -> Style {
        Style { color, ..self }
    }
    pub fn bold(self) -> Style {
        Style { bold: true, ..self }
    }
    pub fn spacing(self, spacing: f32) -> Style {
        Style { spacing, ..self }
    }
}

/// Document metadata. `created` is (year, month, day) in Beijing time; `file_id` should be derived from the
/// content (e.g. a digest of the licence identifier) so that the same document has the same ID.
#[derive(Debug, Clone, Default)]
pub struct Info {
    pub title: String,
    pub subject: String,
    pub author: String,
    pub created: Option<(u16, u8, u8)>,
    pub file_id: [u8; 16],
    /// Extra Info dictionary entries (ASCII keys and values), e.g. the QR payload for offline verification.
    pub extra: Vec<(String, String)>,
}

/// A document being drawn: pages of vector content sharing one font subset.
pub struct Doc {
    face: ttf_parser::Face<'static>,
    units_per_em: f32,
    remapper: GlyphRemapper,
    unicode: BTreeMap<u16, char>,
    missing: BTreeSet<char>,
    pages: Vec<Content>,
    info: Info,
}

/// What a QR code drawn on the page turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QrInfo {
    pub version: i16,
    pub modules: usize,
}

impl Doc {
    pub fn new(info: Info) -> Result<Doc, PdfError> {
        let face = ttf_parser::Face::parse(FONT, 0).map_err(|e| PdfError::Font(e.to_string()))?;
        let units_per_em = f32::from(face.units_per_em());
        let mut remapper = GlyphRemapper::new();
        remapper.remap(0);
        Ok(Doc {
            face,
            units_per_em,
            remapper,
            unicode: BTreeMap::new(),
            missing: BTreeSet::new(),
            pages: vec![],
            info,
        })
    }

    /// Start a new A4 page; drawing goes to the newest page.
    pub fn new_page(&mut self) {
        self.pages.push(Content::new());
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Characters drawn that the font lacks (shown as a blank box, kept in the text layer).
    pub fn missing_chars(&self) -> &BTreeSet<char> {
        &self.missing
    }

    fn page(&mut self) -> &mut Content {
        if self.pages.is_empty() {
            self.pages.push(Content::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn glyph(&self, c: char) -> u16 {
        self.face.glyph_index(c).map(|g| g.0).unwrap_or(0)
    }

    fn advance(&self, gid: u16) -> f32 {
        self.face.glyph_hor_advance(ttf_parser::GlyphId(gid)).map(f32::from).unwrap_or(self.units_per_em)
            / self.units_per_em
    }

    /// Width of a text at a style, in points.
    pub fn width(&self, text: &str, style: Style) -> f32 {
        text.chars().map(|c| self.advance(self.glyph(c)) * style.size + style.spacing).sum()
    }

    /// Encode a text as CIDs of the subset (2 bytes each), recording ToUnicode pairs.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let gid = self.glyph(c);
            if gid == 0 && !c.is_control() {
                self.missing.insert(c);
            }
            let cid = self.remapper.remap(gid);
            if gid != 0 {
                self.unicode.entry(cid).or_insert(c);
            }
            out.extend_from_slice(&cid.to_be_bytes());
        }
        out
    }

    /// A line of text with its baseline starting at (x, y).
    pub fn text(&mut self, x: f32, y: f32, text: &str, style: Style) {
        self.text_matrix([1.0, 0.0, 0.0, 1.0, x, y], text, style);
    }

    /// A line of text centred on x.
    pub fn text_centered(&mut self, cx: f32, y: f32, text: &str, style: Style) {
        let w = self.width(text, style) - style.spacing;
        self.text(cx - w / 2.0, y, text, style);
    }

    /// A line of text ending at x.
    pub fn text_right(&mut self, right: f32, y: f32, text: &str, style: Style) {
        let w = self.width(text, style) - style.spacing;
        self.text(right - w, y, text, style);
    }

    pub(crate) fn text_matrix(&mut self, m: [f32; 6], text: &str, style: Style) {
        let bytes = self.encode(text);
        let Rgb(r, g, b) = style.color;
        let page = self.page();
        page.begin_text();
        page.set_font(Name(b"F1"), style.size);
        page.set_fill_rgb(r, g, b);
        if style.bold {
            page.set_stroke_rgb(r, g, b);
            page.set_line_width(style.size * 0.03);
            page.set_text_rendering_mode(TextRenderingMode::FillStroke);
        } else {
            page.set_text_rendering_mode(TextRenderingMode::Fill);
        }
        page.set_char_spacing(style.spacing);
        page.set_text_matrix(m);
        page.show(Str(&bytes));
        page.end_text();
    }

    /// Break a text into lines no wider than `width`: between any two CJK characters, at spaces between Latin
    /// words, never before closing punctuation; explicit newlines kept.
    pub fn wrap(&self, text: &str, width: f32, style: Style) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            let mut line_w = 0.0;
            // Tokens: a Latin word (with its trailing space) or one other character.
            let mut tokens: Vec<String> = Vec::new();
            for c in para.chars() {
                let latin = c.is_ascii_alphanumeric() || matches!(c, '.' | ',' | '-' | '/' | '(' | ')' | '%' | '\'');
                match tokens.last_mut() {
                    Some(t) if latin && t.chars().last().is_some_and(|p| p.is_ascii_alphanumeric() || p == '.') => {
                        t.push(c)
                    }
                    _ => tokens.push(c.to_string()),
                }
            }
            for tok in tokens {
                let w = self.width(&tok, style);
                let closing = tok.chars().next().is_some_and(|c| "，。、；：？！）》」』”’,.;:?!)".contains(c));
                if line_w + w > width && !line.is_empty() && !closing {
                    lines.push(std::mem::take(&mut line).trim_end().to_string());
                    line_w = 0.0;
                    if tok == " " {
                        continue;
                    }
                }
                // A single token wider than the line is split by characters.
                if w > width && line.is_empty() {
                    for c in tok.chars() {
                        let cw = self.width(&c.to_string(), style);
                        if line_w + cw > width && !line.is_empty() {
                            lines.push(std::mem::take(&mut line));
                            line_w = 0.0;
                        }
                        line.push(c);
                        line_w += cw;
                    }
                    continue;
                }
                line.push_str(&tok);
                line_w += w;
            }
            lines.push(line.trim_end().to_string());
        }
        lines
    }

    /// A stroked rectangle.
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, line: f32, color: Rgb) {
        let page = self.page();
        page.set_stroke_rgb(color.0, color.1, color.2);
        page.set_line_width(line);
        page.rect(x, y, w, h);
        page.stroke();
    }

    /// A filled rectangle.
    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        let page = self.page();
        page.set_fill_rgb(color.0, color.1, color.2);
        page.rect(x, y, w, h);
        page.fill_nonzero();
    }

    /// A straight line.
    pub fn line(&mut self, from: (f32, f32), to: (f32, f32), width: f32, color: Rgb) {
        let page = self.page();
        page.set_stroke_rgb(color.0, color.1, color.2);
        page.set_line_width(width);
        page.move_to(from.0, from.1);
        page.line_to(to.0, to.1);
        page.stroke();
    }

    /// A QR code (ECC level Q) of `data`, `size` points wide with its bottom-left corner at (x, y), drawn as
    /// vector rectangles (one per horizontal run of dark modules) on a white quiet zone of 4 modules, which lies
    /// inside the square.
    pub fn qr(&mut self, x: f32, y: f32, size: f32, data: &str) -> Result<QrInfo, PdfError> {
        let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::Q)
            .map_err(|e| PdfError::QrTooLong(e.to_string()))?;
        let n = code.width();
        let version = match code.version() {
            qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => v,
        };
        let colors = code.to_colors();
        let module = size / (n as f32 + 8.0);
        self.fill_rect(x, y, size, size, Rgb(1.0, 1.0, 1.0));
        let page = self.page();
        page.set_fill_rgb(0.0, 0.0, 0.0);
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if colors[row * n + col] == qrcode::Color::Dark {
                    let start = col;
                    while col < n && colors[row * n + col] == qrcode::Color::Dark {
                        col += 1;
                    }
                    let px = x + (start as f32 + 4.0) * module;
                    let py = y + size - (row as f32 + 5.0) * module;
                    // A hair of overlap so that viewers do not draw seams between rows.
                    page.rect(px, py - 0.02, (col - start) as f32 * module, module + 0.04);
                } else {
                    col += 1;
                }
            }
        }
        page.fill_nonzero();
        Ok(QrInfo { version, modules: n })
    }

    /// The bureau's round seal: a red ring, the name along the upper arc, a star, and a line of text below it.
    pub fn seal(&mut self, cx: f32, cy: f32, r: f32, name: &str, bottom: &str) {
        seal::draw(self, cx, cy, r, name, bottom);
    }

    pub(crate) fn content(&mut self) -> &mut Content {
        self.page()
    }

    /// Write the PDF.
    pub fn finish(self) -> Result<Vec<u8>, PdfError> {
        if self.pages.is_empty() {
            return Err(PdfError::Empty);
        }
        let subset = subsetter::subset(FONT, 0, &self.remapper).map_err(|e| PdfError::Font(format!("{e:?}")))?;
        // Embed the bare CFF program (FontFile3 /CIDFontType0C).
        let raw = ttf_parser::RawFace::parse(&subset, 0).map_err(|e| PdfError::Font(e.to_string()))?;
        let cff =
            raw.table(ttf_parser::Tag::from_bytes(b"CFF ")).ok_or_else(|| PdfError::Font("no CFF table".into()))?;
        let cff = miniz_oxide::deflate::compress_to_vec_zlib(cff, 9);

        let mut next = 1;
        let mut id = || {
            let r = Ref::new(next);
            next += 1;
            r
        };
        let (catalog, tree, type0, cid, descriptor, file, cmap, info) =
            (id(), id(), id(), id(), id(), id(), id(), id());
        let page_ids: Vec<(Ref, Ref)> = self.pages.iter().map(|_| (id(), id())).collect();

        let mut pdf = Pdf::new();
        pdf.set_file_id((self.info.file_id.to_vec(), self.info.file_id.to_vec()));
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree).kids(page_ids.iter().map(|p| p.0)).count(page_ids.len() as i32);

        // A subset tag derived from the glyph set, so it is stable for the same text.
        let mut h: u32 = 2_166_136_261;
        for g in self.remapper.remapped_gids() {
            h = (h ^ u32::from(g)).wrapping_mul(16_777_619);
        }
        let tag: String = (0..6).map(|i| char::from(b'A' + ((h >> (i * 5)) % 26) as u8)).collect();
        let base = format!("{tag}+NotoSansCJKsc-Regular");
        let sys = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };

        pdf.type0_font(type0)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(cmap);
        let widths: Vec<f32> = self.remapper.remapped_gids().map(|g| (self.advance(g) * 1000.0).round()).collect();
        let mut c = pdf.cid_font(cid);
        c.subtype(CidFontType::Type0).base_font(Name(base.as_bytes())).system_info(sys).font_descriptor(descriptor);
        c.default_width(1000.0);
        c.widths().consecutive(0, widths);
        c.finish();
        let scale = 1000.0 / self.units_per_em;
        let bb = self.face.global_bounding_box();
        pdf.font_descriptor(descriptor)
            .name(Name(base.as_bytes()))
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                f32::from(bb.x_min) * scale,
                f32::from(bb.y_min) * scale,
                f32::from(bb.x_max) * scale,
                f32::from(bb.y_max) * scale,
            ))
            .italic_angle(0.0)
            .ascent(f32::from(self.face.ascender()) * scale)
            .descent(f32::from(self.face.descender()) * scale)
            .cap_height(f32::from(self.face.capital_height().unwrap_or(733)) * scale)
            .stem_v(80.0)
            .font_file3(file);
        pdf.stream(file, &cff).filter(Filter::FlateDecode).pair(Name(b"Subtype"), Name(b"CIDFontType0C"));
        let mut uc = UnicodeCmap::<u16>::new(Name(b"OneSeal-UTF16"), sys);
        for (cid, ch) in &self.unicode {
            uc.pair(*cid, *ch);
        }
        let uc = uc.finish();
        pdf.cmap(cmap, &uc);

        for ((page_id, content_id), content) in page_ids.iter().zip(self.pages) {
            let mut p = pdf.page(*page_id);
            p.media_box(Rect::new(0.0, 0.0, A4.0, A4.1)).parent(tree).contents(*content_id);
            p.resources().fonts().pair(Name(b"F1"), type0);
            p.finish();
            let data = miniz_oxide::deflate::compress_to_vec_zlib(&content.finish(), 6);
            pdf.stream(*content_id, &data).filter(Filter::FlateDecode);
        }

        let mut di = pdf.document_info(info);
        di.title(TextStr(&self.info.title)).subject(TextStr(&self.info.subject)).author(TextStr(&self.info.author));
        di.creator(TextStr("OneSeal")).producer(TextStr("OneSeal (pdf-writer)"));
        if let Some((y, m, d)) = self.info.created {
            di.creation_date(pdf_writer::Date::new(y).month(m).day(d).utc_offset_hour(8).utc_offset_minute(0));
        }
        for (k, v) in &self.info.extra {
            di.pair(Name(k.as_bytes()), Str(v.as_bytes()));
        }
        di.finish();
        Ok(pdf.finish())
    }
}

/// Read an Info entry written with [`Info::extra`] back from a PDF made here (uncompressed Info dictionary).
/// Values are ASCII without parentheses or backslashes (e.g. Base45 QR text).
pub fn info_entry(pdf: &[u8], key: &str) -> Option<String> {
    let needle = format!("/{key} (");
    let at = pdf.windows(needle.len()).position(|w| w == needle.as_bytes())? + needle.len();
    let end = pdf[at..].iter().position(|b| *b == b')')?;
    String::from_utf8(pdf[at..at + end].to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_chinese_anywhere_latin_at_spaces_and_keeps_closing_punctuation() {
        let doc = Doc::new(Info::default()).expect("font");
        let s = Style::new(10.0);
        // Ten CJK characters are 100 pt at 10 pt.
        let lines = doc.wrap("一二三四五六七八九十一二三四五", 100.0, s);
        assert_eq!(lines, vec!["一二三四五六七八九十", "一二三四五"]);
        let lines = doc.wrap("一二三四五六七八九十。后", 100.0, s);
        assert_eq!(lines[0], "一二三四五六七八九十。", "closing punctuation hangs instead of starting a line");
        let lines = doc.wrap("hello wonderful world", 60.0, s);
        assert!(lines.iter().all(|l| !l.starts_with(' ') && !l.is_empty()), "{lines:?}");
        assert_eq!(lines.join(" "), "hello wonderful world");
        assert_eq!(doc.wrap("甲\n乙", 100.0, s), vec!["甲", "乙"]);
    }

    #[test]
    fn same_input_same_bytes_and_missing_chars_are_reported() {
        let make = |t: &str| {
            let mut d = Doc::new(Info { title: "t".into(), file_id: [7; 16], ..Info::default() }).expect("font");
            d.text(50.0, 700.0, t, Style::new(12.0));
            let missing = d.missing_chars().clone();
            (d.finish().expect("pdf"), missing)
        };
        let (a, m) = make("营业执照 ABC");
        let (b, _) = make("营业执照 ABC");
        assert_eq!(a, b);
        assert!(m.is_empty());
        assert!(a.starts_with(b"%PDF-"));
        let (_, m) = make("𠀀"); // CJK Extension B: outside the vendored set
        assert_eq!(m.into_iter().collect::<Vec<_>>(), vec!['𠀀']);
        assert!(matches!(Doc::new(Info::default()).expect("font").finish(), Err(PdfError::Empty)));
    }

    #[test]
    fn qr_payloads_beyond_capacity_are_refused() {
        let mut d = Doc::new(Info::default()).expect("font");
        let long = "A".repeat(4000); // v40-Q holds 2,420 alphanumeric characters
        assert!(matches!(d.qr(0.0, 0.0, 100.0, &long), Err(PdfError::QrTooLong(_))));
        let ok = d.qr(0.0, 0.0, 100.0, "OS1:ABC").expect("small fits");
        assert_eq!(ok.version, 1);
    }
}
