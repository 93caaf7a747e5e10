//! Streaming record reader: turns a byte stream (already decompressed) into CloudTrail
//! records, one at a time, in bounded memory.
//!
//! Accepted layouts, in any mix and concatenation (multi-member gzip of several log files
//! gives `{"Records":[...]}{"Records":[...]}`):
//! - the S3 delivery format `{"Records":[ event, ... ]}`: the array is streamed element by
//!   element, never held whole;
//! - a bare array of events `[ event, ... ]` (Stratus Red Team detonation logs);
//! - one event per value, e.g. one per line (CloudTrail Lake / EventBridge exports, where the
//!   event may be the `detail` of an envelope);
//! - any other object holding a `Records` array, which is then read from memory.
//!
//! Each record is parsed straight from the read buffer with the thread's [`FieldPlan`]; a
//! record cut by the end of the buffer fails with an end-of-input error, the buffer is
//! refilled (and grown up to `max_record_bytes`), and the record is parsed again.

use std::io::{self, Read};
use std::sync::Arc;

use serde_json::error::Category;

use crate::extract::{self, Extracted, FieldPlan, RecordShape, Slot};

/// Why a stream could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("read error after {offset} bytes: {source}")]
    Io { offset: u64, source: io::Error },
    #[error("invalid JSON in the value starting at byte {offset}: {message}")]
    Json { offset: u64, message: String },
    #[error("input ends in the middle of a record (truncated?) at byte {offset}")]
    Truncated { offset: u64 },
    #[error("a record at byte {offset} is larger than the limit of {limit} bytes")]
    RecordTooLarge { offset: u64, limit: usize },
}

/// One parsed record, borrowed from the reader's buffer.
pub(crate) struct RawRecord<'b> {
    /// The record's JSON text.
    pub(crate) bytes: &'b [u8],
    /// Extracted slots (spans are relative to `bytes`).
    pub(crate) slots: &'b [Slot],
    pub(crate) shape: RecordShape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    TopLevel,
    /// Inside an array of records; `records` says it is the `Records` member of an object.
    InArray {
        first: bool,
        records: bool,
    },
    /// After the `Records` array, before the closing brace of its object.
    AfterRecords,
}

/// Read buffer size: large enough to amortise refills and the re-parse of the record cut by
/// the end of the buffer, small enough to stay in cache.
pub(crate) const BUFFER_SIZE: usize = 1 << 20;

/// Reads records from a decompressed stream.
pub(crate) struct RecordReader<R> {
    src: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Stream offset of `buf[0]`.
    consumed_before: u64,
    state: State,
    max_record: usize,
    slots: Vec<Slot>,
    /// Total bytes read from `src`.
    pub(crate) bytes_read: u64,
    /// Arrays of records opened (`Records` members and bare arrays), even empty ones.
    pub(crate) arrays: u64,
}

impl<R: Read> RecordReader<R> {
    pub(crate) fn new(src: R, plan: &Arc<FieldPlan>, max_record: usize) -> Self {
        Self::with_buffer(src, plan, max_record, Vec::new())
    }

    /// Reuses `buf` (from [`RecordReader::into_buffer`]) so that scanning many small files
    /// does not allocate and zero a fresh buffer for each.
    pub(crate) fn with_buffer(
        src: R,
        plan: &Arc<FieldPlan>,
        max_record: usize,
        mut buf: Vec<u8>,
    ) -> Self {
        extract::install(plan);
        let cap = BUFFER_SIZE.min(max_record.max(4096));
        if buf.len() != cap {
            buf.resize(cap, 0);
            buf.shrink_to(cap);
        }
        RecordReader {
            src,
            buf,
            start: 0,
            end: 0,
            eof: false,
            consumed_before: 0,
            state: State::TopLevel,
            max_record,
            slots: Vec::with_capacity(plan.len()),
            bytes_read: 0,
            arrays: 0,
        }
    }

    /// The read buffer, for the next reader.
    pub(crate) fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    fn offset(&self) -> u64 {
        self.consumed_before + self.start as u64
    }

    /// Reads more input; returns false at end of input. Grows the buffer when it is full of
    /// one unfinished record.
    fn refill(&mut self) -> Result<bool, ReadError> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.consumed_before += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= self.max_record {
                return Err(ReadError::RecordTooLarge {
                    offset: self.offset(),
                    limit: self.max_record,
                });
            }
            let grown = (self.buf.len() * 2).min(self.max_record);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    self.bytes_read += n as u64;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(ReadError::Io {
                        offset: self.consumed_before + self.end as u64,
                        source,
                    });
                }
            }
        }
    }

    /// Skips whitespace; returns the next byte without consuming it, or None at end of input.
    fn peek_non_ws(&mut self) -> Result<Option<u8>, ReadError> {
        loop {
            while self.start < self.end {
                let b = self.buf[self.start];
                if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                    self.start += 1;
                } else {
                    return Ok(Some(b));
                }
            }
            if !self.refill()? {
                return Ok(None);
            }
        }
    }

    /// Makes at least `n` bytes available after `start` if the input has them.
    fn ensure(&mut self, n: usize) -> Result<bool, ReadError> {
        while self.end - self.start < n {
            if !self.refill()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// At a `{`: if the object opens with a `"Records"` key holding an array, consumes
    /// `{"Records":[` and returns true.
    fn try_records_header(&mut self) -> Result<bool, ReadError> {
        const KEY: &[u8] = b"\"Records\"";
        // Whitespace inside the header is bounded so that a hostile input cannot make the
        // look-ahead grow without limit.
        const LOOKAHEAD: usize = 4096;
        self.ensure(LOOKAHEAD)?;
        let window = &self.buf[self.start..self.end.min(self.start + LOOKAHEAD)];
        let mut i = 1; // past '{'
        let skip_ws = |i: &mut usize| {
            while *i < window.len() && matches!(window[*i], b' ' | b'\n' | b'\r' | b'\t') {
                *i += 1;
            }
        };
        skip_ws(&mut i);
        if !window[i..].starts_with(KEY) {
            return Ok(false);
        }
        i += KEY.len();
        skip_ws(&mut i);
        if window.get(i) != Some(&b':') {
            return Ok(false);
        }
        i += 1;
        skip_ws(&mut i);
        if window.get(i) != Some(&b'[') {
            return Ok(false);
        }
        self.start += i + 1;
        Ok(true)
    }

    /// Parses one JSON value at `start` with the thread's plan; returns its length.
    fn parse_value(&mut self) -> Result<(usize, RecordShape), ReadError> {
        loop {
            let slice = &self.buf[self.start..self.end];
            extract::begin(slice.as_ptr());
            let mut stream = serde_json::Deserializer::from_slice(slice).into_iter::<Extracted>();
            let outcome = stream.next();
            let len = stream.byte_offset();
            match outcome {
                Some(Ok(Extracted)) => {
                    let self_delimited = matches!(slice.first(), Some(b'{' | b'[' | b'"'));
                    // A bare scalar that runs to the end of the buffer may continue after it.
                    if !self_delimited && len == slice.len() && !self.eof {
                        if !self.refill()? && self.end - self.start == len {
                            // End of input: the scalar is complete.
                        } else {
                            continue;
                        }
                    }
                    let shape = extract::take(&mut self.slots);
                    return Ok((len, shape));
                }
                Some(Err(e)) if e.classify() == Category::Eof => {
                    if !self.refill()? {
                        return Err(ReadError::Truncated {
                            offset: self.offset(),
                        });
                    }
                }
                Some(Err(e)) => {
                    return Err(ReadError::Json {
                        offset: self.offset(),
                        message: json_message(&e),
                    });
                }
                None => {
                    return Err(ReadError::Truncated {
                        offset: self.offset(),
                    });
                }
            }
        }
    }

    /// Skips one JSON value (used for members after `Records`).
    fn skip_member(&mut self) -> Result<(), ReadError> {
        // `"key": value`: parse the key as a value, then the colon, then the value.
        let (len, _) = self.parse_value()?;
        self.start += len;
        match self.peek_non_ws()? {
            Some(b':') => self.start += 1,
            Some(_) => {
                return Err(ReadError::Json {
                    offset: self.offset(),
                    message: "expected `:` after an object key".into(),
                });
            }
            None => {
                return Err(ReadError::Truncated {
                    offset: self.offset(),
                });
            }
        }
        if self.peek_non_ws()?.is_none() {
            return Err(ReadError::Truncated {
                offset: self.offset(),
            });
        }
        let (len, _) = self.parse_value()?;
        self.start += len;
        Ok(())
    }

    /// The next record, or None at the end of the stream.
    pub(crate) fn next_record(&mut self) -> Result<Option<RawRecord<'_>>, ReadError> {
        loop {
            match self.state {
                State::TopLevel => match self.peek_non_ws()? {
                    None => return Ok(None),
                    Some(b'[') => {
                        self.start += 1;
                        self.arrays += 1;
                        self.state = State::InArray {
                            first: true,
                            records: false,
                        };
                    }
                    Some(b'{') if self.try_records_header()? => {
                        self.arrays += 1;
                        self.state = State::InArray {
                            first: true,
                            records: true,
                        };
                    }
                    Some(_) => return self.emit(),
                },
                State::InArray { first, records } => {
                    let Some(b) = self.peek_non_ws()? else {
                        return Err(ReadError::Truncated {
                            offset: self.offset(),
                        });
                    };
                    if b == b']' {
                        self.start += 1;
                        self.state = if records {
                            State::AfterRecords
                        } else {
                            State::TopLevel
                        };
                        continue;
                    }
                    if !first {
                        if b != b',' {
                            return Err(ReadError::Json {
                                offset: self.offset(),
                                message: format!(
                                    "expected `,` or `]` between records, found `{}`",
                                    b.escape_ascii()
                                ),
                            });
                        }
                        self.start += 1;
                        if self.peek_non_ws()?.is_none() {
                            return Err(ReadError::Truncated {
                                offset: self.offset(),
                            });
                        }
                    }
                    self.state = State::InArray {
                        first: false,
                        records,
                    };
                    return self.emit();
                }
                State::AfterRecords => match self.peek_non_ws()? {
                    None => {
                        return Err(ReadError::Truncated {
                            offset: self.offset(),
                        });
                    }
                    Some(b'}') => {
                        self.start += 1;
                        self.state = State::TopLevel;
                    }
                    Some(b',') => {
                        self.start += 1;
                        if self.peek_non_ws()?.is_none() {
                            return Err(ReadError::Truncated {
                                offset: self.offset(),
                            });
                        }
                        self.skip_member()?;
                    }
                    Some(other) => {
                        return Err(ReadError::Json {
                            offset: self.offset(),
                            message: format!(
                                "expected `}}` after the Records array, found `{}`",
                                other.escape_ascii()
                            ),
                        });
                    }
                },
            }
        }
    }

    fn emit(&mut self) -> Result<Option<RawRecord<'_>>, ReadError> {
        let (len, shape) = self.parse_value()?;
        let begin = self.start;
        self.start += len;
        Ok(Some(RawRecord {
            bytes: &self.buf[begin..begin + len],
            slots: &self.slots,
            shape,
        }))
    }
}

/// serde_json's message; its line and column count from the start of the value.
fn json_message(e: &serde_json::Error) -> String {
    format!("{e} (line and column within the value)")
}

/// Reads the records of an in-memory array (the `Records` member of an object that did not
/// start with it). Calls `f` for each record.
pub(crate) fn for_each_in_array(
    array: &[u8],
    plan: &Arc<FieldPlan>,
    max_record: usize,
    mut f: impl FnMut(RawRecord<'_>),
) -> Result<(), ReadError> {
    let mut reader = RecordReader::new(io::Cursor::new(array), plan, max_record.max(array.len()));
    while let Some(rec) = reader.next_record()? {
        f(rec);
    }
    Ok(())
}
