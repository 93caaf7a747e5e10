//! Any text as one line of `rdsguard iam simulate`: one JSON answer per line, with an error
//! for a bad line, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let answer = rdsguard_iam::simulate_line(line);
    let parsed: serde_json::Value =
        serde_json::from_str(&answer).unwrap_or_else(|e| panic!("answer is not JSON ({e}): {answer}"));
    assert!(parsed.get("decision").is_some() || parsed.get("error").is_some(), "{answer}");
});
