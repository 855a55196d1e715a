//! Every fuzz target over its seeds and over the regression corpus `fuzz/regressions/<target>/`:
//! each input that ever made a target panic, kept after the fix so that it never comes back.
//! A target that panics here fails the test.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

fn regressions(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut inputs: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn every_target_survives_its_seeds_and_every_input_that_ever_crashed_it() {
    let mut replayed = 0;
    for (name, target) in lockstep_fuzz::TARGETS {
        let seeds = lockstep_fuzz::seeds::seeds(name);
        assert!(!seeds.is_empty(), "{name} has no seeds");
        for seed in &seeds {
            target(seed);
        }
        for (path, input) in regressions(name) {
            target(&input);
            eprintln!("{name}: replayed {}", path.display());
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} regression inputs");
}

#[test]
fn every_target_has_a_fuzz_binary() {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
    for (name, _) in lockstep_fuzz::TARGETS {
        let path = fuzz.join(format!("fuzz_targets/{name}.rs"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("libfuzzer_sys::fuzz_target!"), "{path:?}");
        assert!(text.contains("lockstep_fuzz::"), "{path:?}");
        assert!(manifest.contains(&format!("name = \"{name}\"")), "fuzz/Cargo.toml lacks {name}");
    }
}
