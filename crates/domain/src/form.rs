//! Form data checked against a form schema: every field error is reported at once, naming the field.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::calendar::parse_date;
use crate::catalog::{FieldType, FormSchema};
use crate::ids::{ResidentId, Uscc};

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

fn fe(field: &str, code: &'static str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.to_string(), code, message: message.into() }
}

/// Check form data against its schema. Unknown keys are refused too, so a typo never silently drops a value.
pub fn validate(schema: &FormSchema, data: &Map<String, Value>) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    for key in data.keys() {
        if !schema.fields.iter().any(|f| &f.key == key) {
            errors.push(fe(key, "unknown_field", format!("the form has no field {key}")));
        }
    }
    for f in &schema.fields {
        let v = match data.get(&f.key) {
            None | Some(Value::Null) => {
                if f.required {
                    errors.push(fe(&f.key, "required", format!("{} ({}) is required", f.label, f.key)));
                }
                continue;
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                if f.required {
                    errors.push(fe(&f.key, "required", format!("{} ({}) is required", f.label, f.key)));
                }
                continue;
            }
            Some(v) => v,
        };
        if let Err(e) = check_value(f.field_type, v, f) {
            errors.push(fe(&f.key, e.0, e.1));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn check_value(t: FieldType, v: &Value, f: &crate::catalog::Field) -> Result<(), (&'static str, String)> {
    let text = || v.as_str().ok_or(("type", format!("{} must be text", f.key)));
    match t {
        FieldType::Text | FieldType::LongText => {
            let s = text()?;
            let max = f.max_len.unwrap_or(if t == FieldType::Text { 200 } else { 5000 });
            if s.chars().count() > max as usize {
                return Err(("too_long", format!("{} is longer than {max} characters", f.key)));
            }
        }
        FieldType::Number | FieldType::Integer => {
            let x = v.as_f64().ok_or(("type", format!("{} must be a number", f.key)))?;
            if t == FieldType::Integer && x.fract() != 0.0 {
                return Err(("type", format!("{} must be a whole number", f.key)));
            }
            if let Some(min) = f.min {
                if x < min {
                    return Err(("range", format!("{} must be at least {min}", f.key)));
                }
            }
            if let Some(max) = f.max {
                if x > max {
                    return Err(("range", format!("{} must be at most {max}", f.key)));
                }
            }
        }
        FieldType::Date => {
            parse_date(text()?).map_err(|e| ("date", e))?;
        }
        FieldType::Boolean => {
            v.as_bool().ok_or(("type", format!("{} must be true or false", f.key)))?;
        }
        FieldType::Choice => {
            let s = text()?;
            if !f.options.iter().any(|o| o == s) {
                return Err(("choice", format!("{} must be one of {:?}", f.key, f.options)));
            }
        }
        FieldType::Phone => {
            let s = text()?;
            // A mobile number (11 digits from 1), or a fixed line with its area code (0 + 9–11 digits, one
            // optional hyphen after the area code: 0951-1234567).
            let digits: String = s.chars().filter(|c| *c != '-').collect();
            let mobile = s.len() == 11 && s.starts_with('1') && s.bytes().all(|b| b.is_ascii_digit());
            let fixed = s.starts_with('0')
                && s.matches('-').count() <= 1
                && !s.ends_with('-')
                && (10..=12).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit());
            let ok = mobile || fixed;
            if !ok {
                return Err(("phone", format!("{} is not a phone number", f.key)));
            }
        }
        FieldType::Uscc => {
            Uscc::parse(text()?).map_err(|e| ("uscc", format!("{}: unified social credit code {e}", f.key)))?;
        }
        FieldType::ResidentId => {
            ResidentId::parse(text()?).map_err(|e| ("resident_id", format!("{}: resident ID number {e}", f.key)))?;
        }
        FieldType::RegionCode => {
            let s = text()?;
            if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(("region_code", format!("{} must be a 6-digit region code (GB/T 2260)", f.key)));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Field;
    use serde_json::json;

    fn field(key: &str, t: FieldType, required: bool) -> Field {
        Field {
            key: key.into(),
            label: key.into(),
            label_en: String::new(),
            field_type: t,
            required,
            options: vec!["a".into(), "b".into()],
            min: Some(0.0),
            max: Some(100.0),
            max_len: None,
            personal: false,
        }
    }

    #[test]
    fn every_error_is_reported_with_its_field() {
        let schema = FormSchema {
            fields: vec![
                field("name", FieldType::Text, true),
                field("area", FieldType::Number, false),
                field("uscc", FieldType::Uscc, false),
                field("rid", FieldType::ResidentId, false),
                field("day", FieldType::Date, false),
                field("pick", FieldType::Choice, false),
                field("phone", FieldType::Phone, false),
            ],
        };
        let data = json!({"area": 101, "uscc": "91110000600037341M", "rid": "11010519491231002X",
            "day": "2026-02-30", "pick": "c", "phone": "12", "extra": 1});
        let errs = validate(&schema, data.as_object().unwrap()).unwrap_err();
        let got: Vec<(&str, &str)> = errs.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            vec![
                ("extra", "unknown_field"),
                ("name", "required"),
                ("area", "range"),
                ("uscc", "uscc"),
                ("day", "date"),
                ("pick", "choice"),
                ("phone", "phone")
            ]
        );
        let ok = json!({"name": "张三", "area": 50, "uscc": "91110000600037341L", "pick": "a", "phone": "13800000000"});
        assert_eq!(validate(&schema, ok.as_object().unwrap()), Ok(()));
    }

    #[test]
    fn phone_numbers_are_mobile_or_fixed_lines_with_their_area_code() {
        let schema = FormSchema { fields: vec![field("phone", FieldType::Phone, true)] };
        let check = |p: &str| validate(&schema, json!({"phone": p}).as_object().unwrap()).is_ok();
        for good in ["13912345678", "0951-1234567", "09516012345", "010-12345678", "0951-12345678"] {
            assert!(check(good), "{good}");
        }
        for bad in [
            "1391234",
            "139123456789",
            "23912345678",
            "1391234567a",
            "951-1234567",
            "0951--1234567",
            "0951-",
            "0-9-5-1",
            "0951123",
            "+8613912345678",
        ] {
            assert!(!check(bad), "{bad}");
        }
    }
}
