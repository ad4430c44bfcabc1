//! Questions asked on a terminal (the first admin at `init`): a line of
//! text, or a secret typed without echo.

use std::io::{BufRead, IsTerminal, Write};

/// Whether a person sits at this process: standard input and output are
/// both terminals (never under CI or in a pipe).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks a question on standard error and reads one line; an empty answer
/// takes `default`.
pub fn ask(question: &str, default: &str) -> std::io::Result<String> {
    eprint!("{question} [{default}]: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let answer = line.trim();
    Ok(if answer.is_empty() { default } else { answer }.to_string())
}

/// Asks for a secret with the terminal's echo off.
pub fn ask_secret(question: &str) -> std::io::Result<String> {
    eprint!("{question}: ");
    std::io::stderr().flush()?;
    let _quiet = EchoOff::new();
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    eprintln!();
    read?;
    Ok(line.trim().to_string())
}

/// The terminal's echo turned off until dropped.
struct EchoOff(Option<libc::termios>);

impl EchoOff {
    fn new() -> Self {
        // SAFETY: tcgetattr/tcsetattr on standard input with a zeroed
        // termios that tcgetattr fills in; nothing else is touched.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return Self(None);
            }
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            if libc::tcsetattr(0, libc::TCSANOW, &t) != 0 {
                return Self(None);
            }
            Self(Some(saved))
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = self.0 {
            // SAFETY: restores the settings read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &saved);
            }
        }
    }
}
