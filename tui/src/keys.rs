//! Raw terminal bytes → keys. The console reads a byte stream whether it
//! runs on a local terminal in raw mode, inside an SSH channel or behind the
//! admin socket, so it decodes VT100/xterm input itself: arrows, Enter,
//! Backspace, Esc, Tab, function keys, Ctrl-letters, UTF-8 text (pasted or
//! typed by a barcode scanner), and an in-band resize report
//! (`ESC [ 8 ; rows ; cols t`, which the attach client sends).

/// A key the console understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Ctrl plus a letter (lower case).
    Ctrl(char),
    /// Enter (CR or LF).
    Enter,
    /// Backspace (DEL or BS).
    Backspace,
    /// Escape on its own.
    Esc,
    /// Tab.
    Tab,
    /// Shift-Tab.
    BackTab,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Home.
    Home,
    /// End.
    End,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Delete.
    Delete,
    /// A function key F1–F12.
    F(u8),
}

/// A mouse action (SGR reporting), at a 0-based column and row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mouse {
    /// The left button was pressed.
    Click(u16, u16),
    /// The wheel turned up.
    ScrollUp(u16, u16),
    /// The wheel turned down.
    ScrollDown(u16, u16),
}

/// What the byte stream said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A key.
    Key(Key),
    /// The terminal now has this many columns and rows.
    Resize(u16, u16),
    /// The mouse.
    Mouse(Mouse),
}

/// Asks the terminal to report mouse clicks and the wheel (SGR encoding).
pub const MOUSE_ON: &[u8] = b"\x1b[?1000h\x1b[?1006h";
/// Stops mouse reporting.
pub const MOUSE_OFF: &[u8] = b"\x1b[?1006l\x1b[?1000l";

/// A stateful decoder: a sequence split across reads is completed by the next.
#[derive(Debug, Default)]
pub struct Decoder {
    pending: Vec<u8>,
}

impl Decoder {
    /// Decodes a chunk of bytes.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Input> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.pending.len() {
            match parse(&self.pending[i..]) {
                Parsed::Done(input, used) => {
                    if let Some(input) = input {
                        out.push(input);
                    }
                    i += used;
                }
                Parsed::Incomplete => break,
            }
        }
        self.pending.drain(..i);
        out
    }

    /// Ends a read burst: a lone pending ESC is the Esc key.
    pub fn flush(&mut self) -> Vec<Input> {
        if self.pending == [0x1b] {
            self.pending.clear();
            return vec![Input::Key(Key::Esc)];
        }
        Vec::new()
    }
}

enum Parsed {
    Done(Option<Input>, usize),
    Incomplete,
}

fn key(k: Key, used: usize) -> Parsed {
    Parsed::Done(Some(Input::Key(k)), used)
}

fn parse(b: &[u8]) -> Parsed {
    match b[0] {
        b'\r' => {
            // CR LF counts once.
            let used = if b.get(1) == Some(&b'\n') { 2 } else { 1 };
            key(Key::Enter, used)
        }
        b'\n' => key(Key::Enter, 1),
        b'\t' => key(Key::Tab, 1),
        0x7f | 0x08 => key(Key::Backspace, 1),
        0x1b => parse_escape(b),
        c @ 0x01..=0x1a => key(Key::Ctrl((b'a' + c - 1) as char), 1),
        0x00 | 0x1c..=0x1f => Parsed::Done(None, 1),
        _ => parse_utf8(b),
    }
}

fn parse_utf8(b: &[u8]) -> Parsed {
    let len = match b[0] {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return Parsed::Done(None, 1),
    };
    if b.len() < len {
        return Parsed::Incomplete;
    }
    match std::str::from_utf8(&b[..len])
        .ok()
        .and_then(|s| s.chars().next())
    {
        Some(c) => key(Key::Char(c), len),
        None => Parsed::Done(None, 1),
    }
}

fn parse_escape(b: &[u8]) -> Parsed {
    let Some(&second) = b.get(1) else {
        return Parsed::Incomplete;
    };
    match second {
        b'[' => parse_csi(b),
        b'O' => match b.get(2) {
            None => Parsed::Incomplete,
            Some(b'A') => key(Key::Up, 3),
            Some(b'B') => key(Key::Down, 3),
            Some(b'C') => key(Key::Right, 3),
            Some(b'D') => key(Key::Left, 3),
            Some(b'H') => key(Key::Home, 3),
            Some(b'F') => key(Key::End, 3),
            Some(c @ b'P'..=b'S') => key(Key::F(c - b'P' + 1), 3),
            Some(_) => Parsed::Done(None, 3),
        },
        0x1b => key(Key::Esc, 1),
        _ => key(Key::Esc, 1),
    }
}

fn parse_csi(b: &[u8]) -> Parsed {
    // ESC [ params final
    let mut end = 2;
    while end < b.len() && !(0x40..=0x7e).contains(&b[end]) {
        end += 1;
        if end > 32 {
            return Parsed::Done(None, end);
        }
    }
    if end >= b.len() {
        return Parsed::Incomplete;
    }
    if b.get(2) == Some(&b'<') {
        return Parsed::Done(parse_mouse(&b[3..end], b[end]), end + 1);
    }
    let params: Vec<u16> = std::str::from_utf8(&b[2..end])
        .unwrap_or("")
        .split(';')
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    let used = end + 1;
    let k = match b[end] {
        b'A' => Key::Up,
        b'B' => Key::Down,
        b'C' => Key::Right,
        b'D' => Key::Left,
        b'H' => Key::Home,
        b'F' => Key::End,
        b'Z' => Key::BackTab,
        b't' if params.first() == Some(&8) && params.len() == 3 => {
            return Parsed::Done(Some(Input::Resize(params[2], params[1])), used);
        }
        b'~' => match params.first().copied().unwrap_or(0) {
            1 | 7 => Key::Home,
            4 | 8 => Key::End,
            3 => Key::Delete,
            5 => Key::PageUp,
            6 => Key::PageDown,
            11..=15 => Key::F((params[0] - 10) as u8),
            17..=21 => Key::F((params[0] - 11) as u8),
            23 | 24 => Key::F((params[0] - 12) as u8),
            _ => return Parsed::Done(None, used),
        },
        _ => return Parsed::Done(None, used),
    };
    key(k, used)
}

/// `ESC [ < button ; col ; row (M|m)`, 1-based coordinates.
fn parse_mouse(params: &[u8], end: u8) -> Option<Input> {
    let p: Vec<u16> = std::str::from_utf8(params)
        .ok()?
        .split(';')
        .map(|x| x.parse().ok())
        .collect::<Option<Vec<_>>>()?;
    let [button, col, row] = p[..] else {
        return None;
    };
    let (x, y) = (col.saturating_sub(1), row.saturating_sub(1));
    match (button, end) {
        (0, b'M') => Some(Input::Mouse(Mouse::Click(x, y))),
        (64, b'M') => Some(Input::Mouse(Mouse::ScrollUp(x, y))),
        (65, b'M') => Some(Input::Mouse(Mouse::ScrollDown(x, y))),
        _ => None,
    }
}

/// The in-band resize report the attach client sends.
pub fn resize_report(cols: u16, rows: u16) -> Vec<u8> {
    format!("\x1b[8;{rows};{cols}t").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<Input> {
        let mut d = Decoder::default();
        let mut out = d.feed(bytes);
        out.extend(d.flush());
        out
    }

    #[test]
    fn decodes_what_terminals_and_scanners_send() {
        use Input::Key as K;
        assert_eq!(
            keys(b"\x1b[A\x1b[B\x1bOC\x1b[D\r\x7f\t\x1b[Z"),
            vec![
                K(Key::Up),
                K(Key::Down),
                K(Key::Right),
                K(Key::Left),
                K(Key::Enter),
                K(Key::Backspace),
                K(Key::Tab),
                K(Key::BackTab)
            ]
        );
        assert_eq!(
            keys(b"\x1bOP\x1b[15~\x1b[24~\x1b[3~\x1b[5~"),
            vec![
                K(Key::F(1)),
                K(Key::F(5)),
                K(Key::F(12)),
                K(Key::Delete),
                K(Key::PageUp)
            ]
        );
        // A scanner's burst: digits and CR LF, in one read.
        let burst = keys(b"1000100001863586931\r\n");
        assert_eq!(burst.len(), 20);
        assert_eq!(burst[19], K(Key::Enter));
        assert_eq!(keys("Jürgen ☕".as_bytes())[1], K(Key::Char('ü')));
        assert_eq!(
            keys(b"\x03\x0c"),
            vec![K(Key::Ctrl('c')), K(Key::Ctrl('l'))]
        );
        assert_eq!(keys(b"\x1b"), vec![K(Key::Esc)]);
        assert_eq!(keys(&resize_report(120, 40)), vec![Input::Resize(120, 40)]);
        assert_eq!(
            keys(b"\x1b[<0;5;3M\x1b[<0;5;3m\x1b[<65;1;1M"),
            vec![
                Input::Mouse(Mouse::Click(4, 2)),
                Input::Mouse(Mouse::ScrollDown(0, 0))
            ]
        );
    }

    #[test]
    fn sequences_split_across_reads_are_completed() {
        let mut d = Decoder::default();
        assert!(d.feed(b"\x1b[").is_empty());
        assert_eq!(d.feed(b"A"), vec![Input::Key(Key::Up)]);
        assert!(d.feed(&"é".as_bytes()[..1]).is_empty());
        assert_eq!(
            d.feed(&"é".as_bytes()[1..]),
            vec![Input::Key(Key::Char('é'))]
        );
    }
}
