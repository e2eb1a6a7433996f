//! Every fuzz target's seeds (and every input a fuzzing run ever crashed on, kept with
//! them) replayed through the same code the fuzz targets run: a regression fails here,
//! in the ordinary test build, without cargo-fuzz's instrumented one.

use std::path::Path;

#[path = "../../fuzz/inputs.rs"]
mod inputs;

#[test]
fn every_fuzz_seed_is_handled_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    // The targets the fuzz crate builds are exactly the ones replayed here.
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let mut built: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "arca-fuzz")
        .collect();
    let mut replayed: Vec<&str> = inputs::TARGETS.iter().map(|(n, _)| *n).collect();
    built.sort();
    replayed.sort();
    assert_eq!(
        built, replayed,
        "fuzz/Cargo.toml and fuzz/inputs.rs list different targets"
    );

    let mut total = 0;
    for (name, run) in inputs::TARGETS {
        let dir = root.join("seeds").join(name);
        let seeds: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        assert!(!seeds.is_empty(), "fuzz target {name} has no seeds");
        for seed in seeds {
            let data = std::fs::read(&seed).unwrap();
            // A panic names the seed that caused it.
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(
                outcome.is_ok(),
                "fuzz target {name} panicked on {}",
                seed.display()
            );
            total += 1;
        }
    }
    assert!(total >= inputs::TARGETS.len());
}
