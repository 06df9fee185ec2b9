//! Records mapped per second for a 20-field mapping with JMESPath expressions and templates
//! over the SmartSuite sample record (`tests/data/sample_record.json`). Target: >= 100,000
//! records/s on one core.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use serde_json::{Value, json};
use suiteflow_mapper::schema::smartsuite::Table;
use suiteflow_mapper::schema::webflow::Collection;
use suiteflow_mapper::{CompiledMapping, MapResolvers, MappingDocument, validate};

// The allocator the worker runs with (see bin/worker/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn fixtures() -> (CompiledMapping, Value, MapResolvers) {
    let (doc, table, collection, record, resolvers) = inputs();
    let mapping = match validate(&doc, &table, &collection) {
        Ok(m) => m,
        Err(problems) => panic!("benchmark mapping is invalid: {problems:#?}"),
    };
    (mapping, record, resolvers)
}

fn inputs() -> (MappingDocument, Table, Collection, Value, MapResolvers) {
    let structure: Value =
        serde_json::from_str(include_str!("../tests/data/sample_structure.json"))
            .unwrap_or_default();
    let record: Value =
        serde_json::from_str(include_str!("../tests/data/sample_record.json")).unwrap_or_default();
    let collection: Collection =
        serde_json::from_str(include_str!("../tests/data/webflow_collection.json"))
            .unwrap_or_default();
    let table: Table = serde_json::from_value(structure["table"].clone()).unwrap_or_default();
    let d = |s: &str| json!({"type": "direct", "source": s});
    let e = |s: &str| json!({"type": "expression", "expression": s});
    let t = |s: &str| json!({"type": "template", "template": s});
    let doc = json!({
        "fieldMap": {
            "name": d("title"),
            "body": d("description"),
            "price": {"type": "direct", "source": "s584654fd2", "transform": "round", "args": [2]},
            "views": d("s6878322bd"),
            "publish-date": d("sb4c5ca5fc"),
            "category": d("se799fd212"),
            "stage": d("status"),
            "featured": d("s227a7b29a"),
            "authors": d("s570c86b38"),
            "hero": d("see6d6120d"),
            "contact-email": d("sdd0608960"),
            "location": d("sd27e602f7"),
            "tag-ids": e("join(' ', sccb7d6601)"),
            "topics": e("join(', ', s710a06b7f)"),
            "author-titles": e("join(', ', s4e3d2c1b0[])"),
            "campaign-code": e("s2f9e8d7c6 || title"),
            "sku": t("{{s5c0e1a7b3 | uppercase}}-{{autonumber}}"),
            "headline": t("{{title | title}} ({{se799fd212}})"),
            "author-name": t("{{sa60d0cace.first_name}} {{sa60d0cace.last_name}}"),
            "publish-time": t("{{sa1dd2f880 | truncate(10)}}")
        },
        "slugTemplate": "{{title}}-{{autonumber}}",
        "statusBehavior": {"source": "status", "draft": ["backlog"]},
        "requiredFields": ["name", "price"]
    });
    let doc: MappingDocument = serde_json::from_value(doc).unwrap_or_default();
    assert_eq!(doc.field_map.len(), 20);
    let resolvers = MapResolvers::default()
        .with_file("a4d988eCTCKZ62XMqUIj", "https://files.example/hero.png")
        .with_record(None, "6455294a7715e71aecd9c56a", "wf-1")
        .with_record(None, "645c1dee9f83b887865d99ec", "wf-2");
    (doc, table, collection, record["record"].clone(), resolvers)
}

fn bench(c: &mut Criterion) {
    let (mapping, record, resolvers) = fixtures();
    let item = mapping.map_record(&record, &resolvers);
    assert!(
        matches!(&item, Ok(i) if i.warnings.is_empty() && i.field_data.len() == 21),
        "{item:#?}"
    );

    let mut group = c.benchmark_group("mapper");
    group.throughput(Throughput::Elements(1));
    group.bench_function("map_record/20_fields", |b| {
        b.iter(|| black_box(mapping.map_record(black_box(&record), &resolvers)))
    });
    let (doc, table, collection, _, _) = inputs();
    group.bench_function("validate+compile/20_fields", |b| {
        b.iter(|| black_box(validate(black_box(&doc), &table, &collection).is_ok()))
    });
    group.finish();
}

/// CPU time this thread has used (Linux `/proc/thread-self/schedstat`), if available.
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// A plain timing loop on this thread, printed as records/s: per wall-clock second, and per
/// second of this thread's CPU time (one core's worth, even on a busy machine).
fn records_per_second() {
    let (mapping, record, resolvers) = fixtures();
    let budget = Duration::from_secs(3);
    let start = Instant::now();
    let cpu_start = thread_cpu_time();
    let mut n: u64 = 0;
    while start.elapsed() < budget {
        for _ in 0..1000 {
            let _ = black_box(mapping.map_record(black_box(&record), &resolvers));
        }
        n += 1000;
    }
    let wall = start.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let per_wall = n as f64 / wall;
    print!("mapper: {per_wall:.0} records/s wall-clock");
    if let (Some(a), Some(b)) = (cpu_start, thread_cpu_time()) {
        #[allow(clippy::cast_precision_loss)]
        let per_cpu = n as f64 / (b - a).as_secs_f64();
        print!(", {per_cpu:.0} records/s of one core's CPU time");
    }
    println!(" (20-field mapping with expressions and templates, {n} records)");
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    records_per_second();
}
