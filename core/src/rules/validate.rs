//! Validation of definitions coming from outside.

use crate::error::CoreError;
use crate::model::{CustomerFields, Reward, Template};
use chrono::{Datelike, NaiveDate};

/// Longest accepted free text (names, terms, descriptions), in characters.
pub const MAX_TEXT: usize = 2000;
/// Most stamps one request may add.
pub const MAX_STAMPS_PER_REQUEST: u32 = 100;

/// Checks free text: present when required, not too long, no control characters.
pub fn text(field: &str, value: &str, required: bool, max: usize) -> Result<(), CoreError> {
    if required && value.trim().is_empty() {
        return Err(CoreError::Invalid(format!("{field} must not be empty")));
    }
    let n = value.chars().count();
    if n > max {
        return Err(CoreError::Invalid(format!(
            "{field} is {n} characters long; at most {max} are allowed"
        )));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(CoreError::Invalid(format!(
            "{field} contains control characters"
        )));
    }
    Ok(())
}

fn color(field: &str, value: &str) -> Result<(), CoreError> {
    let ok = value.len() == 7
        && value.starts_with('#')
        && value[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(CoreError::Invalid(format!(
            "{field} must be a color like #3b2a20, not '{value}'"
        )))
    }
}

/// A voucher issued by hand or by a campaign: a description of 1 to 200
/// characters, valid at most 3650 days (0 = no expiry).
pub fn validate_voucher(description: &str, valid_days: u32) -> Result<(), CoreError> {
    if description.trim().is_empty() || description.chars().count() > 200 {
        return Err(CoreError::Invalid(
            "a voucher needs a description of 1 to 200 characters".into(),
        ));
    }
    if valid_days > 3650 {
        return Err(CoreError::Invalid(
            "a voucher can be valid for at most 3650 days".into(),
        ));
    }
    Ok(())
}

/// Checks a template definition.
pub fn validate_template(t: &Template) -> Result<(), CoreError> {
    text("name", &t.name, true, 100)?;
    text("business_name", &t.business_name, true, 100)?;
    text("terms", &t.terms, false, MAX_TEXT)?;
    if t.stamps_required == 0 || t.stamps_required > 100 {
        return Err(CoreError::Invalid(format!(
            "stamps_required must be between 1 and 100, not {}",
            t.stamps_required
        )));
    }
    color("branding.background", &t.branding.background)?;
    color("branding.foreground", &t.branding.foreground)?;
    color("branding.label", &t.branding.label)?;
    text("branding.stamp_icon", &t.branding.stamp_icon, true, 4)?;
    if let Some(logo) = &t.branding.logo {
        text("branding.logo", logo, true, 100)?;
        let plain = t.branding.logo_file().is_some();
        if !plain || !logo.to_ascii_lowercase().ends_with(".png") {
            return Err(CoreError::Invalid(format!(
                "branding.logo must be the name of a PNG file in the data folder (like logo.png), not '{logo}'"
            )));
        }
    }
    if t.rules.daily_cap > 1000 {
        return Err(CoreError::Invalid(
            "rules.daily_cap must be at most 1000".into(),
        ));
    }
    if t.rules.cooldown_secs > 7 * 86_400 {
        return Err(CoreError::Invalid(
            "rules.cooldown_secs must be at most one week".into(),
        ));
    }
    match &t.reward {
        Reward::Simple { description } | Reward::Voucher { description, .. } => {
            text("reward.description", description, true, 200)?
        }
        Reward::RedeemCode {
            description,
            fixed_code,
            ..
        } => {
            text("reward.description", description, true, 200)?;
            if let Some(code) = fixed_code {
                text("reward.fixed_code", code, true, 48)?;
                if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    return Err(CoreError::Invalid(
                        "reward.fixed_code may hold letters, digits and '-' only".into(),
                    ));
                }
            }
        }
        Reward::Lottery { prizes } => {
            if prizes.is_empty() || prizes.len() > 20 {
                return Err(CoreError::Invalid("a lottery needs 1 to 20 prizes".into()));
            }
            for p in prizes {
                text("prize name", &p.name, true, 200)?;
                if p.weight == 0 || p.weight > 1_000_000 {
                    return Err(CoreError::Invalid(format!(
                        "prize '{}' needs a weight between 1 and 1000000",
                        p.name
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Characters that reorder or hide text (bidirectional embeddings,
/// overrides and isolates): a name with them shows as something else.
fn reorders_text(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no space.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// Whether a person's name can be shown as it is: no control characters
/// (tabs and newlines included), nothing that reorders text, and something
/// visible besides spaces. Right-to-left scripts themselves are welcome.
pub fn displayable_name(name: &str) -> bool {
    !name.chars().any(|c| c.is_control() || reorders_text(c))
        && name.chars().any(|c| !c.is_whitespace() && !invisible(c))
}

/// Checks and normalizes customer fields.
/// `today` is the shop-local date: a birthday must lie between 1900 and it.
pub fn validate_customer(f: &mut CustomerFields, today: NaiveDate) -> Result<(), CoreError> {
    let bad = |key: &'static str, value: &str| CoreError::BadValue {
        key,
        value: value.to_string(),
    };
    f.name = f.name.trim().to_string();
    if f.name.chars().count() > 100 {
        return Err(bad("name_long", "100"));
    }
    if !f.name.is_empty() && !displayable_name(&f.name) {
        return Err(bad("name_control", ""));
    }
    if let Some(phone) = &f.phone {
        let digits: String = phone
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        let odd = phone
            .chars()
            .any(|c| !(c.is_ascii_digit() || " +-().".contains(c)));
        if odd || digits.len() < 5 || digits.len() > 16 || digits[1..].contains('+') {
            return Err(bad("phone", phone));
        }
        f.phone = Some(digits);
    }
    if let Some(email) = &f.email {
        let e = email.trim().to_lowercase();
        let valid = e.len() <= 254
            && e.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
            })
            && !e.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            return Err(bad("email", email));
        }
        f.email = Some(e);
    }
    if let Some(b) = f.birthday
        && (b > today || b.year() < 1900)
    {
        return Err(bad("birthday", &b.to_string()));
    }
    if let Some(lang) = &f.language
        && (lang.is_empty()
            || lang.len() > 8
            || !lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(bad("language", lang));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::displayable_name;

    #[test]
    fn names_show_as_they_are_or_are_refused() {
        for ok in ["Mira Jansen", "Ольга", "مريم", "שרה כהן", "李雷"] {
            assert!(displayable_name(ok), "{ok}");
        }
        for bad in [
            "Mira\tJansen",
            "Mira\nJansen",
            "evil\u{202E}gpj.exe",
            "x\u{2066}y",
            "\u{200B}\u{200B}",
            "\u{200D} \u{FEFF}",
            "   ",
        ] {
            assert!(!displayable_name(bad), "{bad:?}");
        }
    }
}
