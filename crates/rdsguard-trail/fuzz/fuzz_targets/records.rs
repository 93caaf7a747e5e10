//! Any bytes (plain or gzip) fed to the record reader: an error per input, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = rdsguard_trail::TrailOptions {
        threads: 1,
        max_record_bytes: 1 << 20,
        ..Default::default()
    };
    if let Ok(result) = rdsguard_trail::scan_reader("fuzz", std::io::Cursor::new(data), &opts) {
        for skipped in &result.skipped_inputs {
            assert!(!skipped.reason.contains("internal error"), "{}", skipped.reason);
        }
    }
});
