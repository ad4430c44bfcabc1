//! The bot's commands: parsed from a message, listed in `/help` and in the
//! menu Telegram shows (setMyCommands), each described in the catalogs as
//! `command.<name>`.

use crate::texts;

/// A command the bot understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Join a card, claim a receipt, or a welcome.
    Start,
    /// My cards.
    Cards,
    /// Show the profile.
    Profile,
    /// Change the name.
    Name,
    /// Change or clear the phone.
    Phone,
    /// Change or clear the email.
    Email,
    /// Change or clear the birthday.
    Birthday,
    /// Change the language.
    Language,
    /// No marketing news on Telegram.
    Stop,
    /// Marketing news on Telegram again.
    News,
    /// My data as a file.
    Export,
    /// Delete my data.
    Forget,
    /// Stop waiting for an answer.
    Cancel,
    /// This list.
    Help,
}

impl Command {
    /// Every command, in the order `/help` lists them.
    pub const ALL: [Command; 14] = [
        Command::Cards,
        Command::Profile,
        Command::Name,
        Command::Phone,
        Command::Email,
        Command::Birthday,
        Command::Language,
        Command::Stop,
        Command::News,
        Command::Export,
        Command::Forget,
        Command::Cancel,
        Command::Help,
        Command::Start,
    ];

    /// The command as typed, without the slash.
    pub fn name(self) -> &'static str {
        match self {
            Command::Start => "start",
            Command::Cards => "cards",
            Command::Profile => "profile",
            Command::Name => "name",
            Command::Phone => "phone",
            Command::Email => "email",
            Command::Birthday => "birthday",
            Command::Language => "language",
            Command::Stop => "stop",
            Command::News => "news",
            Command::Export => "export",
            Command::Forget => "forget",
            Command::Cancel => "cancel",
            Command::Help => "help",
        }
    }

    /// The command with this name (any case, without the slash).
    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// Whether Telegram's command menu offers it (the profile fields are
    /// reached from `/profile`; `/start` comes with every bot).
    pub fn in_menu(self) -> bool {
        matches!(
            self,
            Command::Cards
                | Command::Profile
                | Command::Stop
                | Command::News
                | Command::Export
                | Command::Forget
                | Command::Help
        )
    }

    /// What it does, in `lang`.
    pub fn description(self, lang: &str) -> String {
        texts::t(lang, &format!("command.{}", self.name()), &[])
    }

    /// A message's command and the rest of its text: `None` for text that
    /// is not a command, `Some(Err(word))` for an unknown one. `/cmd@bot`
    /// (groups) counts as `/cmd`.
    pub fn parse(text: &str) -> Option<Result<(Command, &str), &str>> {
        let text = text.trim_start();
        let word = text.split_whitespace().next()?.strip_prefix('/')?;
        let rest = text[1 + word.len()..].trim();
        let name = word.split('@').next().unwrap_or_default();
        Some(Command::from_name(name).map(|c| (c, rest)).ok_or(word))
    }

    /// `/help`: the intro, one line per command, the outro.
    pub fn help(lang: &str) -> String {
        let mut out = texts::t(lang, "help.intro", &[]);
        for c in Command::ALL {
            if c != Command::Start {
                out.push_str(&format!("\n/{} — {}", c.name(), c.description(lang)));
            }
        }
        out.push('\n');
        out.push_str(&texts::t(lang, "help.outro", &[]));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Command;

    #[test]
    fn commands_are_parsed_with_their_argument() {
        assert_eq!(Command::parse("/cards"), Some(Ok((Command::Cards, ""))));
        assert_eq!(
            Command::parse("/name  Anna Maria "),
            Some(Ok((Command::Name, "Anna Maria")))
        );
        assert_eq!(
            Command::parse("/start@stamp_bot j1"),
            Some(Ok((Command::Start, "j1")))
        );
        assert_eq!(Command::parse("/HELP"), Some(Ok((Command::Help, ""))));
        assert_eq!(Command::parse("/dance now"), Some(Err("dance")));
        assert_eq!(Command::parse("hello"), None);
        assert_eq!(Command::parse(""), None);
        assert_eq!(Command::parse("   "), None);
    }

    #[test]
    fn every_command_is_described_in_every_catalog() {
        for lang in ["en", "ru"] {
            let help = Command::help(lang);
            for c in Command::ALL {
                let key = format!("command.{}", c.name());
                assert_ne!(c.description(lang), key, "{lang} lacks {key}");
                if c != Command::Start {
                    assert!(help.contains(&format!("/{} — ", c.name())), "{help}");
                }
            }
        }
    }
}
