//! CLIP's byte-level BPE tokenizer, read from a diffusers `tokenizer/` folder
//! (`vocab.json` + `merges.txt`).

use std::collections::HashMap;

/// Start-of-text token string.
pub const BOS: &str = "<|startoftext|>";
/// End-of-text token string.
pub const EOS: &str = "<|endoftext|>";

/// A CLIP tokenizer.
pub struct ClipTokenizer {
    vocab: HashMap<String, u32>,
    ranks: HashMap<(String, String), usize>,
    byte_map: [char; 256],
}

fn bytes_to_unicode() -> [char; 256] {
    let mut bs: Vec<u32> = (u32::from('!')..=u32::from('~'))
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    let mut out = ['\0'; 256];
    for (b, c) in bs.into_iter().zip(cs) {
        out[b as usize] = char::from_u32(c).unwrap_or('?');
    }
    out
}

impl ClipTokenizer {
    /// From the contents of `vocab.json` and `merges.txt`.
    pub fn from_strings(vocab_json: &str, merges_txt: &str) -> Result<Self, String> {
        let vocab: HashMap<String, u32> =
            serde_json::from_str(vocab_json).map_err(|e| format!("vocab.json: {e}"))?;
        let mut ranks = HashMap::new();
        for line in merges_txt.lines() {
            if line.starts_with("#version") || line.trim().is_empty() {
                continue;
            }
            let mut it = line.split_whitespace();
            if let (Some(a), Some(b)) = (it.next(), it.next()) {
                let r = ranks.len();
                ranks.entry((a.to_string(), b.to_string())).or_insert(r);
            }
        }
        for t in [BOS, EOS] {
            if !vocab.contains_key(t) {
                return Err(format!("vocab.json lacks {t}"));
            }
        }
        Ok(Self {
            vocab,
            ranks,
            byte_map: bytes_to_unicode(),
        })
    }

    /// Split text into words as CLIP's regex does (letters, single digits, other symbols,
    /// contractions), lower-cased.
    fn words(text: &str) -> Vec<String> {
        let text = text.to_lowercase();
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            if c == '\'' {
                let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
                if let Some(k) = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]
                    .iter()
                    .filter(|k| rest.starts_with(**k))
                    .max_by_key(|k| k.len())
                {
                    out.push((*k).to_string());
                    i += k.len();
                    continue;
                }
            }
            let start = i;
            if c.is_alphabetic() {
                while i < chars.len() && chars[i].is_alphabetic() {
                    i += 1;
                }
            } else if c.is_numeric() {
                i += 1;
            } else {
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !chars[i].is_alphabetic()
                    && !chars[i].is_numeric()
                {
                    i += 1;
                }
            }
            out.push(chars[start..i].iter().collect());
        }
        out
    }

    fn bpe(&self, word: &str) -> Vec<String> {
        let mapped: Vec<char> = word.bytes().map(|b| self.byte_map[b as usize]).collect();
        let mut parts: Vec<String> = mapped.iter().map(|c| c.to_string()).collect();
        if let Some(last) = parts.last_mut() {
            last.push_str("</w>");
        }
        loop {
            let best = parts
                .windows(2)
                .enumerate()
                .filter_map(|(i, w)| {
                    self.ranks
                        .get(&(w[0].clone(), w[1].clone()))
                        .map(|&r| (r, i))
                })
                .min();
            let Some((_, i)) = best else { break };
            let merged = format!("{}{}", parts[i], parts[i + 1]);
            parts[i] = merged;
            parts.remove(i + 1);
        }
        parts
    }

    /// Token ids of `text` without special tokens; unknown pieces are an error.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        let mut ids = Vec::new();
        for w in Self::words(text) {
            for piece in self.bpe(&w) {
                ids.push(
                    *self
                        .vocab
                        .get(&piece)
                        .ok_or_else(|| format!("token \"{piece}\" not in vocab"))?,
                );
            }
        }
        Ok(ids)
    }

    /// `[BOS] tokens [EOS]` padded with `pad` (EOS when `None`) to `len`, truncated to fit.
    pub fn encode_padded(
        &self,
        text: &str,
        len: usize,
        pad: Option<&str>,
    ) -> Result<Vec<u32>, String> {
        let bos = self.vocab[BOS];
        let eos = self.vocab[EOS];
        let pad_id = match pad {
            Some(p) => *self
                .vocab
                .get(p)
                .ok_or_else(|| format!("pad token {p} not in vocab"))?,
            None => eos,
        };
        let mut ids = vec![bos];
        let body = self.encode(text)?;
        ids.extend(body.into_iter().take(len.saturating_sub(2)));
        ids.push(eos);
        ids.resize(len, pad_id);
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_vocab_round_trip() {
        let vocab = r#"{"!": 0, "a</w>": 1, "f": 2, "a": 3, "c": 4, "e</w>": 5, "fa": 6,
            "face</w>": 7, "ce</w>": 8, ",</w>": 10,
            "<|startoftext|>": 100, "<|endoftext|>": 101}"#;
        let merges = "#version: 0.2\nc e</w>\nf a\nfa ce</w>\n";
        let t = ClipTokenizer::from_strings(vocab, merges).unwrap();
        assert_eq!(t.encode("A face,").unwrap(), vec![1, 7, 10]);
        assert_eq!(
            t.encode_padded("a face", 6, Some("!")).unwrap(),
            vec![100, 1, 7, 101, 0, 0]
        );
        assert!(t.encode("zebra").is_err());
    }

    #[test]
    fn words_split_like_clip() {
        assert_eq!(
            ClipTokenizer::words("A photo of 12 cats!! it's"),
            vec!["a", "photo", "of", "1", "2", "cats", "!!", "it", "'s"]
        );
    }
}
