//! Chinese search over the catalog without external services: text is split into CJK bigrams (and single
//! characters, and ASCII words), and items are ranked by weighted matches, names counting most.
//!
//! The catalog has hundreds to a few thousand items, so an in-memory index rebuilt when the catalog changes is
//! both faster and simpler than a database full-text index, and behaves the same on SQLite and PostgreSQL.

use std::collections::BTreeMap;

/// Split text into search terms: CJK characters and bigrams, lowercase ASCII words.
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_run = |run: &mut Vec<char>, out: &mut Vec<String>| {
        for (i, c) in run.iter().enumerate() {
            out.push(c.to_string());
            if let Some(n) = run.get(i + 1) {
                out.push(format!("{c}{n}"));
            }
        }
        run.clear();
    };
    for c in text.chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            run.push(c);
        } else if c.is_alphanumeric() {
            flush_run(&mut run, &mut out);
            word.extend(c.to_lowercase());
        } else {
            flush_run(&mut run, &mut out);
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
        }
    }
    flush_run(&mut run, &mut out);
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// An inverted index from terms to documents with weights.
#[derive(Debug, Default, Clone)]
pub struct Index {
    postings: BTreeMap<String, BTreeMap<usize, u32>>,
    names: Vec<String>,
}

impl Index {
    /// Add a document; `fields` are (text, weight) pairs, e.g. the name with weight 10, keywords 6, guide text 1.
    pub fn add(&mut self, name: &str, fields: &[(&str, u32)]) -> usize {
        let id = self.names.len();
        self.names.push(name.to_string());
        for (text, w) in fields {
            for t in terms(text) {
                // Bigrams say more than single characters.
                let weight = if t.chars().count() >= 2 { *w * 3 } else { *w };
                *self.postings.entry(t).or_default().entry(id).or_default() += weight;
            }
        }
        id
    }

    /// Documents ranked by score (best first); a document must match every bigram of a CJK query, or, when no
    /// document does, most of them.
    pub fn search(&self, query: &str) -> Vec<(usize, u32)> {
        let q = terms(query);
        if q.is_empty() {
            return Vec::new();
        }
        let mut scores: BTreeMap<usize, (u32, usize)> = BTreeMap::new();
        for t in &q {
            if let Some(p) = self.postings.get(t) {
                for (doc, w) in p {
                    let e = scores.entry(*doc).or_default();
                    e.0 += w;
                    e.1 += 1;
                }
            }
        }
        let best_hits = scores.values().map(|(_, h)| *h).max().unwrap_or(0);
        let needed = if best_hits == q.len() { q.len() } else { (q.len() + 1) / 2 };
        let name_bonus = |doc: usize| {
            if self.names[doc].contains(query.trim()) {
                1000
            } else {
                0
            }
        };
        let mut out: Vec<(usize, u32)> =
            scores.into_iter().filter(|(_, (_, h))| *h >= needed).map(|(d, (s, _))| (d, s + name_bonus(d))).collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigrams() {
        assert_eq!(terms("营业执照"), vec!["营", "营业", "业", "业执", "执", "执照", "照"]);
        assert_eq!(terms("SM2 签名"), vec!["sm2", "签", "签名", "名"]);
    }

    #[test]
    fn ranking_prefers_names() {
        let mut ix = Index::default();
        let a = ix.add("食品经营许可", &[("食品经营许可", 10), ("餐饮 食品", 6)]);
        let b = ix.add("公司设立登记", &[("公司设立登记", 10), ("营业执照", 6)]);
        let c = ix.add("护士执业注册", &[("护士执业注册", 10), ("护士", 6)]);
        assert_eq!(ix.search("食品")[0].0, a);
        assert_eq!(ix.search("营业执照")[0].0, b);
        assert_eq!(ix.search("护士")[0].0, c);
        assert!(ix.search("飞机").is_empty());
    }
}
