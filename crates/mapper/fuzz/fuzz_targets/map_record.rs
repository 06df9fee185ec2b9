//! Mapping evaluation on arbitrary input. The first byte picks the mode:
//! - even: the rest is a record (JSON) mapped with the full fixture mapping;
//! - odd: the rest is a mapping document (JSON) validated against the fixtures and, when
//!   valid, run on the sample record.
//!
//! Run: `cargo +nightly fuzz run map_record` (from crates/mapper/fuzz).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use suiteflow_mapper::schema::{smartsuite::Table, webflow::Collection};
use suiteflow_mapper::{CompiledMapping, MapResolvers, MappingDocument, validate};

struct Fixtures {
    table: Table,
    collection: Collection,
    record: Value,
    mapping: CompiledMapping,
    resolvers: MapResolvers,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let structure: Value =
            serde_json::from_str(include_str!("../../tests/data/sample_structure.json")).unwrap();
        let record: Value =
            serde_json::from_str(include_str!("../../tests/data/sample_record.json")).unwrap();
        let table: Table = serde_json::from_value(structure["table"].clone()).unwrap();
        let collection: Collection =
            serde_json::from_str(include_str!("../../tests/data/webflow_collection.json")).unwrap();
        let doc =
            MappingDocument::from_json(include_str!("../../tests/data/mapping_full.json")).unwrap();
        let mapping = validate(&doc, &table, &collection).unwrap();
        let resolvers = MapResolvers::default()
            .with_file("a4d988eCTCKZ62XMqUIj", "https://files.example/hero.png")
            .with_record(None, "6455294a7715e71aecd9c56a", "wf-1");
        Fixtures {
            table,
            collection,
            record: record["record"].clone(),
            mapping,
            resolvers,
        }
    })
}

fn check(item: &suiteflow_mapper::MappedItem) {
    let slug = item.slug.as_str();
    assert!(slug.len() <= 100);
    assert!(
        !slug.is_empty()
            && slug.split('-').all(|p| !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let f = fixtures();
    if mode % 2 == 0 {
        if let Ok(record) = serde_json::from_slice::<Value>(rest) {
            if let Ok(item) = f.mapping.map_record(&record, &f.resolvers) {
                check(&item);
            }
            let _ = f.mapping.lookups(&record);
        }
    } else if let Ok(text) = std::str::from_utf8(rest)
        && let Ok(doc) = MappingDocument::from_json(text)
        && let Ok(mapping) = validate(&doc, &f.table, &f.collection)
        && let Ok(item) = mapping.map_record(&f.record, &f.resolvers)
    {
        check(&item);
    }
});
