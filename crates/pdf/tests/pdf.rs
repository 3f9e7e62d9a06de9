//! The printable licence checked with independent tools: poppler's `pdftotext` must give back the Chinese text,
//! `pdftoppm` + zbar's `zbarimg` must decode the QR code to the exact payload, `pdffonts` must show the font
//! embedded as a subset, and the same sheet must always give the same bytes.

use std::path::PathBuf;
use std::process::Command;

use oneseal_pdf::license::{render, LicenseSheet, SheetField, QR_INFO_KEY};

fn tool(name: &str) -> Command {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().map(|o| o.status.success());
    assert!(
        found.unwrap_or(false),
        "{name} is needed by this test: apt-get install poppler-utils zbar-tools (.ci/run installs them)"
    );
    Command::new(name)
}

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pdf-samples");
    std::fs::create_dir_all(&dir).expect("target dir");
    dir
}

fn sheet(scope: &str) -> LicenseSheet {
    let f = |label: &str, label_en: &str, value: &str| SheetField {
        label: label.into(),
        label_en: label_en.into(),
        value: value.into(),
    };
    LicenseSheet {
        title: "营业执照".into(),
        title_en: "Business licence".into(),
        number: "91640100MA76XQ2T3B".into(),
        identifier: "1.2.156.3005.2.11100000000013338W032.11640100MB96000107.0000001.001.K".into(),
        fields: vec![
            f("名称", "Name", "银川塞上江南食品有限公司"),
            f("统一社会信用代码", "Unified social credit code", "91640100MA76XQ2T3B"),
            f("类型", "Type", "有限责任公司（自然人投资或控股）"),
            f("法定代表人", "Legal representative", "马晓燕"),
            f("注册资本（万元）", "Registered capital (10,000 yuan)", "100"),
            f("住所", "Domicile", "宁夏回族自治区银川市金凤区亲水大街 168 号"),
            f("经营范围", "Business scope", scope),
            f("营业期限至", "Term of operation until", "长期"),
        ],
        issuer: "银川市审批服务局".into(),
        issued: (2026, 11, 26),
        // Base45 alphabet only, like a real OS1: payload, long enough to need a version-11-ish code.
        qr: format!("OS1:{}", "6BFOXN*TS0BI$ZD.P9UOL97O4-2HH77HRM3DSPTLRR+%3".repeat(9)),
        verify_url:
            "https://oneseal.example/verify?id=1.2.156.3005.2.11100000000013338W032.11640100MB96000107.0000001.001.K"
                .into(),
        seal_text: "行政审批专用章".into(),
        file_id: [42; 16],
    }
}

#[test]
fn licence_pdf_text_qr_font_and_determinism_checked_with_poppler_and_zbar() {
    let s = sheet("食品销售；餐饮服务；食品互联网销售（依法须经批准的项目，经相关部门批准后方可开展经营活动）");
    let a = render(&s).expect("render");
    let b = render(&s).expect("render again");
    assert_eq!(a.bytes, b.bytes, "the same licence renders the same bytes");
    assert_eq!(a.pages, 1);
    assert!(a.missing.is_empty(), "{:?}", a.missing);
    assert!(a.qr.version <= 15, "QR version {} > 15 at ECC Q", a.qr.version);
    assert_eq!(oneseal_pdf::info_entry(&a.bytes, QR_INFO_KEY).as_deref(), Some(s.qr.as_str()));
    let dir = out_dir();
    let pdf = dir.join("licence-sample.pdf");
    std::fs::write(&pdf, &a.bytes).expect("write pdf");

    // pdftotext: the Chinese text comes out.
    let out = tool("pdftotext").arg("-enc").arg("UTF-8").arg(&pdf).arg("-").output().expect("pdftotext");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    // The title is letter-spaced, which pdftotext renders as spaces.
    let squeezed: String = text.chars().filter(|c| *c != ' ').collect();
    for want in [
        "营业执照",
        "银川塞上江南食品有限公司",
        "马晓燕",
        "银川市审批服务局",
        "2026年11月26日",
        "扫码核验",
        &s.identifier,
    ] {
        assert!(squeezed.contains(want), "pdftotext lacks {want}:\n{text}");
    }

    // pdffonts: one embedded subset font.
    let out = tool("pdffonts").arg(&pdf).output().expect("pdffonts");
    let fonts = String::from_utf8_lossy(&out.stdout);
    assert!(fonts.contains("NotoSansCJKsc-Regular") && fonts.contains("yes yes yes"), "{fonts}");

    // pdftoppm + zbarimg: the QR decodes to the payload.
    let png = dir.join("licence-sample");
    let st =
        tool("pdftoppm").args(["-r", "150", "-png", "-singlefile"]).arg(&pdf).arg(&png).status().expect("pdftoppm");
    assert!(st.success());
    let out = tool("zbarimg")
        .args(["--raw", "-q", "-Sqrcode.enable"])
        .arg(png.with_extension("png"))
        .output()
        .expect("zbarimg");
    let decoded = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(decoded, s.qr, "zbarimg decodes the printed QR code");
}

#[test]
fn long_fields_continue_on_a_second_page_and_still_extract() {
    let scope = "一般项目：食品销售（仅销售预包装食品）；日用百货销售；".repeat(60);
    let r = render(&sheet(&scope)).expect("render");
    assert!(r.pages >= 2, "a long business scope continues on further pages");
    let pdf = out_dir().join("licence-long.pdf");
    std::fs::write(&pdf, &r.bytes).expect("write");
    let out = tool("pdftotext").arg("-enc").arg("UTF-8").arg(&pdf).arg("-").output().expect("pdftotext");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("续页"), "{text}");
    // Lines break anywhere in Chinese; join them (page headers and labels do not contain the phrase).
    let joined: String = text.chars().filter(|c| *c != '\n').collect();
    assert_eq!(joined.matches("日用百货销售").count(), 60, "every part of the scope is printed once");
}

#[test]
fn application_forms_blank_and_sample_print_every_field() {
    use oneseal_pdf::form::{render, FormLabels, FormLine, FormSheet};
    let line = |label: &str, value: Option<&str>, options: Vec<&str>| FormLine {
        label: label.into(),
        label_en: "An English label that is long enough to need two lines in the label column".into(),
        required: true,
        options: options.into_iter().map(str::to_string).collect(),
        rows: 1,
        value: value.map(str::to_string),
    };
    let sheet = |sample: bool| FormSheet {
        title: "食品经营许可申请表".into(),
        subtitle: "银川市审批服务局市场准入科".into(),
        lines: (0..30)
            .map(|i| {
                line(
                    &format!("第{i}项 法定代表人（负责人、经营者）身份证号码"),
                    sample.then_some("银川塞上餐饮有限公司"),
                    vec![],
                )
            })
            .chain([line("主体业态", sample.then_some("餐饮服务经营者"), vec!["食品销售经营者", "餐饮服务经营者"])])
            .collect(),
        materials: vec!["营业执照".into()],
        sample,
        labels: FormLabels {
            required_mark: "（必填）".into(),
            materials: "随附材料清单".into(),
            signature: "申请人（签字或盖章）".into(),
            date: "日期".into(),
            watermark: "样表 SAMPLE".into(),
        },
        file_id: [1; 16],
    };
    let blank = render(&sheet(false)).expect("blank");
    let sample = render(&sheet(true)).expect("sample");
    assert_eq!(blank, render(&sheet(false)).expect("again"), "deterministic");
    let dir = out_dir();
    for (name, bytes) in [("form-blank.pdf", &blank), ("form-sample.pdf", &sample)] {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        let out = tool("pdftotext").arg("-enc").arg("UTF-8").arg(&p).arg("-").output().expect("pdftotext");
        let text: String =
            String::from_utf8(out.stdout).expect("utf-8").chars().filter(|c| !c.is_whitespace()).collect();
        assert!(text.contains("食品经营许可申请表") && text.contains("第29项"), "{name}: every field is printed");
        assert_eq!(text.contains("银川塞上餐饮有限公司"), name.contains("sample"), "{name}: values only on the sample");
        // (pdftotext keeps little of diagonal text: the first character of the watermark is enough.)
        assert_eq!(text.contains('样'), name.contains("sample"), "{name}: the watermark only on the sample");
    }
}
