//! RFC 8941 structured-field items, just enough for COOP and COEP: the HTML standard ignores a
//! value that does not parse as an item, and only a token (case-sensitive) names a policy.

/// The bare item of `value` when it is a token with valid parameters, else `None`.
pub fn token(value: &str) -> Option<&str> {
    let s = value.trim_matches(' ');
    let mut p = Parser { s, i: 0 };
    let start = p.i;
    if !p.token() {
        return None;
    }
    let bare = &s[start..p.i];
    p.parameters()?;
    (p.i == s.len()).then_some(bare)
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(&b)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn skip_while(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let start = self.i;
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
        self.i - start
    }

    /// sf-token: ALPHA or `*`, then tchar, `:` or `/`.
    fn token(&mut self) -> bool {
        if !self
            .peek()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'*')
        {
            return false;
        }
        self.skip_while(tchar);
        true
    }

    /// `;` key [`=` bare-item], repeated.
    fn parameters(&mut self) -> Option<()> {
        while self.eat(b';') {
            self.skip_while(|b| b == b' ');
            if !self
                .peek()
                .is_some_and(|b| b.is_ascii_lowercase() || b == b'*')
            {
                return None;
            }
            self.skip_while(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.*".contains(&b)
            });
            if self.eat(b'=') {
                self.bare_item()?;
            }
        }
        Some(())
    }

    fn bare_item(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => {
                self.i += 1;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.i += 1;
                            return Some(());
                        }
                        b'\\' => {
                            self.i += 1;
                            if !matches!(self.peek()?, b'"' | b'\\') {
                                return None;
                            }
                            self.i += 1;
                        }
                        0x20..=0x7e => self.i += 1,
                        _ => return None,
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                self.eat(b'-');
                if self.skip_while(|b| b.is_ascii_digit()) == 0 {
                    return None;
                }
                if self.eat(b'.') && self.skip_while(|b| b.is_ascii_digit()) == 0 {
                    return None;
                }
                Some(())
            }
            b':' => {
                self.i += 1;
                self.skip_while(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
                self.eat(b':').then_some(())
            }
            b'?' => {
                self.i += 1;
                (self.eat(b'0') || self.eat(b'1')).then_some(())
            }
            _ => self.token().then_some(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::token;

    #[test]
    fn items() {
        assert_eq!(token("same-origin"), Some("same-origin"));
        assert_eq!(token(" Same-Origin "), Some("Same-Origin"));
        assert_eq!(
            token("same-origin; report-to=\"e\"; x=?1; n=-1.5"),
            Some("same-origin")
        );
        assert_eq!(token("same-origin;report-to"), Some("same-origin"));
        assert_eq!(token("\"same-origin\""), None);
        assert_eq!(token("same-origin; report-to=coop endpoint"), None);
        assert_eq!(token("same-origin, unsafe-none"), None);
        assert_eq!(token("same-origin; Report-To=\"e\""), None);
        assert_eq!(token(""), None);
    }
}
