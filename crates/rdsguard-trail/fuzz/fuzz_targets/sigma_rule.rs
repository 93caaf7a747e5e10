//! Any text as a Sigma rule: loaded or reported, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = rdsguard_trail::validate_sigma_rule(text, "fuzz.yml");
    }
});
