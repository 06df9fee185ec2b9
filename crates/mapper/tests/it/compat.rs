//! The compatibility matrix.

use suiteflow_mapper::schema::smartsuite::FieldType as S;
use suiteflow_mapper::schema::webflow::WebflowFieldType as W;
use suiteflow_mapper::{compatible_types, is_compatible};

/// The SmartSuite → Webflow type table, with SmartSuite's real type names.
#[test]
fn the_type_table_holds() {
    let table: &[(&str, &[&str])] = &[
        ("textfield", &["PlainText", "Link", "Email", "Phone"]),
        ("textareafield", &["RichText", "PlainText"]),
        ("numberfield", &["Number"]),
        ("currencyfield", &["Number"]),
        ("duedatefield", &["DateTime"]),
        ("singleselectfield", &["Option", "PlainText"]),
        ("yesnofield", &["Switch"]),
        ("linkedrecordfield", &["Reference", "MultiReference"]),
        ("filefield", &["File", "Image", "MultiImage", "VideoLink"]),
        ("emailfield", &["Email", "PlainText"]),
        ("phonefield", &["Phone", "PlainText"]),
        ("linkfield", &["Link", "PlainText"]),
    ];
    for (ss, wfs) in table {
        for wf in *wfs {
            assert!(is_compatible(&S::parse(ss), &W::parse(wf)), "{ss} -> {wf}");
        }
    }
}

#[test]
fn incompatible_pairs() {
    let pairs = [
        ("yesnofield", "PlainText"),
        ("textfield", "Switch"),
        ("numberfield", "DateTime"),
        ("linkedrecordfield", "PlainText"),
        ("filefield", "PlainText"),
        ("singleselectfield", "Number"),
        ("textfield", "Reference"),
        ("formulafield", "Reference"),
        ("someday-newfield", "MultiImage"),
    ];
    for (ss, wf) in pairs {
        assert!(!is_compatible(&S::parse(ss), &W::parse(wf)), "{ss} -> {wf}");
    }
}

#[test]
fn every_smartsuite_type_has_a_target_and_none_targets_user_or_unknown() {
    let mut all: Vec<S> = S::KNOWN.to_vec();
    all.push(S::Unknown("brandnewfield".into()));
    for ss in &all {
        let targets = compatible_types(ss);
        assert!(!targets.is_empty(), "{ss} has no target");
        for never in [W::User, W::ExtFileRef, W::Unknown("X".into())] {
            assert!(!targets.contains(&never), "{ss} -> {never}");
        }
    }
    assert_eq!(S::KNOWN.len(), 47);
}

#[test]
fn extended_types_have_sensible_targets() {
    let expect = [
        ("richtextareafield", "RichText"),
        ("statusfield", "Option"),
        ("multipleselectfield", "PlainText"),
        ("percentfield", "Number"),
        ("ratingfield", "Number"),
        ("colorpickerfield", "Color"),
        ("addressfield", "PlainText"),
        ("fullnamefield", "PlainText"),
        ("tagsfield", "PlainText"),
        ("datefield", "DateTime"),
        ("daterangefield", "DateTime"),
        ("firstcreatedfield", "DateTime"),
        ("lastupdatedfield", "DateTime"),
        ("autonumberfield", "Number"),
        ("formulafield", "Number"),
        ("formulafield", "PlainText"),
        ("lookupfield", "PlainText"),
        ("rollupfield", "Number"),
        ("countfield", "Number"),
    ];
    for (ss, wf) in expect {
        assert!(is_compatible(&S::parse(ss), &W::parse(wf)), "{ss} -> {wf}");
    }
    assert_eq!(
        compatible_types(&S::RichTextArea).first(),
        Some(&W::RichText)
    );
}
