//! Page texts: Fluent message files (`crates/web/i18n/*.ftl`), compiled into the binary. Chinese is the default;
//! English mirrors every key (a test checks both files and every key the templates use).

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The `lang` attribute / cookie value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" | "zh-Hans" => Some(Lang::Zh),
            "en" | "en-US" | "en-GB" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

pub const ZH_FTL: &str = include_str!("../../i18n/zh-CN.ftl");
pub const EN_FTL: &str = include_str!("../../i18n/en.ftl");

fn bundle(lang: Lang, text: &'static str) -> FluentBundle<FluentResource> {
    let id = lang.code().parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: the pages are not bidirectional.
    b.set_use_isolating(false);
    let res = FluentResource::try_new(text.to_string()).unwrap_or_else(|(res, _)| res);
    // Duplicate keys are caught by the tests; the first definition wins here.
    let _ = b.add_resource(res);
    b
}

static ZH: LazyLock<FluentBundle<FluentResource>> = LazyLock::new(|| bundle(Lang::Zh, ZH_FTL));
static EN: LazyLock<FluentBundle<FluentResource>> = LazyLock::new(|| bundle(Lang::En, EN_FTL));

/// The text of a message, with arguments; the key itself when the message is missing (never a panic).
pub fn text(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let b: &FluentBundle<FluentResource> = match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    };
    let Some(pattern) = b.get_message(key).and_then(|m| m.value()) else {
        return key.to_string();
    };
    let mut fa = FluentArgs::new();
    for (k, v) in args {
        fa.set(*k, FluentValue::from(*v));
    }
    let mut errors = vec![];
    b.format_pattern(pattern, if args.is_empty() { None } else { Some(&fa) }, &mut errors).into_owned()
}

/// The text of a message with one number argument `$n` (plural rules apply).
pub fn text_n(lang: Lang, key: &str, n: i64) -> String {
    let b: &FluentBundle<FluentResource> = match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    };
    let Some(pattern) = b.get_message(key).and_then(|m| m.value()) else {
        return key.to_string();
    };
    let mut fa = FluentArgs::new();
    fa.set("n", FluentValue::from(n));
    let mut errors = vec![];
    b.format_pattern(pattern, Some(&fa), &mut errors).into_owned()
}

/// Whether a message exists (for keys built from codes, e.g. `hall-error-{code}`).
pub fn has(key: &str) -> bool {
    ZH.get_message(key).is_some()
}

/// The message keys a Fluent file defines.
pub fn keys(ftl: &str) -> Vec<String> {
    ftl.lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_define_the_same_keys_once_and_parse_cleanly() {
        for (name, ftl) in [("zh-CN", ZH_FTL), ("en", EN_FTL)] {
            assert!(FluentResource::try_new(ftl.to_string()).is_ok(), "{name}.ftl has syntax errors");
            let k = keys(ftl);
            let mut sorted = k.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), k.len(), "{name}.ftl defines a key twice");
        }
        let (mut zh, mut en) = (keys(ZH_FTL), keys(EN_FTL));
        zh.sort();
        en.sort();
        assert_eq!(zh, en, "zh-CN.ftl and en.ftl must define the same keys");
        assert_eq!(text(Lang::Zh, "nav-verify", &[]), "证照核验");
        assert_eq!(text(Lang::En, "nav-verify", &[]), "Verify a licence");
        assert_eq!(text(Lang::En, "no-such-key", &[]), "no-such-key");
        assert_eq!(text_n(Lang::En, "limit-working-days", 1), "1 working day");
        assert_eq!(text_n(Lang::En, "limit-working-days", 20), "20 working days");
        assert_eq!(text_n(Lang::Zh, "limit-working-days", 20), "20 个工作日");
        assert_eq!(text(Lang::Zh, "services-filter-topic", &[("v", "餐饮")]), "主题：餐饮");
    }
}
