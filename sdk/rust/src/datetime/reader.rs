//! A cursor over the bytes of a timestamp being parsed, shared by both text forms.

/// The text and how far it has been read.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    /// The next byte, not consumed.
    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Consumes the next byte when it is one of `wanted`.
    pub fn accept(&mut self, wanted: &[u8]) -> Option<u8> {
        let byte = self.peek().filter(|byte| wanted.contains(byte))?;
        self.at += 1;
        Some(byte)
    }

    /// Whether all of the text has been read.
    pub fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// Exactly `count` ASCII digits as a number; nothing is consumed when they are not
    /// there.
    pub fn digits(&mut self, count: usize) -> Option<i64> {
        let part = self.bytes.get(self.at..self.at + count)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at += count;
        Some(
            part.iter()
                .fold(0, |number, digit| number * 10 + i64::from(digit - b'0')),
        )
    }

    /// The run of ASCII digits here (possibly empty).
    pub fn digit_run(&mut self) -> &'a str {
        let start = self.at;
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            self.at += 1;
        }
        std::str::from_utf8(&self.bytes[start..self.at]).expect("ASCII digits")
    }
}
