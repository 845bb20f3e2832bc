//! What typed words ask for: a customer who types "where is my parcel",
//! "huy don" or "ยอดเงิน" instead of tapping reaches the same place as the
//! button. Vietnamese is matched with and without its diacritics, since
//! many phones type it bare; Thai, written without spaces, by substring.

/// A place in the conversation a typed request can lead to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    Greeting,
    Menu,
    Products,
    Cart,
    Orders,
    /// The customer's order (one, or the list when there are several).
    MyOrder,
    CancelOrder,
    WhereIsParcel,
    Balance,
    TalkToPerson,
}

/// How a phrase must sit in the text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fit {
    /// The phrase is all there is, once polite words are set aside.
    Whole,
    /// The phrase appears anywhere, as whole words (Thai: as a substring).
    Within,
}

use Fit::*;
use Intent::*;

/// (phrase as `fold` writes it, what it asks for, how it must fit, its
/// language). Earlier rows win, so the specific comes before the general.
const PHRASES: &[(&str, Intent, Fit, &str)] = &[
    // Cancelling.
    ("cancel my order", CancelOrder, Within, "en"),
    ("cancel the order", CancelOrder, Within, "en"),
    ("cancel order", CancelOrder, Within, "en"),
    ("want to cancel", CancelOrder, Within, "en"),
    ("ยกเลิก", CancelOrder, Within, "th"),
    ("huy don", CancelOrder, Within, "vi"),
    ("muon huy", CancelOrder, Within, "vi"),
    // The parcel.
    ("where is my parcel", WhereIsParcel, Within, "en"),
    ("where is my package", WhereIsParcel, Within, "en"),
    ("where is my order", WhereIsParcel, Within, "en"),
    ("wheres my", WhereIsParcel, Within, "en"),
    ("track my", WhereIsParcel, Within, "en"),
    ("tracking", WhereIsParcel, Within, "en"),
    ("parcel", WhereIsParcel, Within, "en"),
    ("delivery status", WhereIsParcel, Within, "en"),
    ("when will it arrive", WhereIsParcel, Within, "en"),
    ("พัสดุ", WhereIsParcel, Within, "th"),
    ("ถึงไหน", WhereIsParcel, Within, "th"),
    ("ส่งของยัง", WhereIsParcel, Within, "th"),
    ("ส่งยัง", WhereIsParcel, Within, "th"),
    ("เลขแทร็ก", WhereIsParcel, Within, "th"),
    ("van don", WhereIsParcel, Within, "vi"),
    ("kien hang", WhereIsParcel, Within, "vi"),
    ("goi hang", WhereIsParcel, Within, "vi"),
    ("o dau", WhereIsParcel, Within, "vi"),
    ("den dau", WhereIsParcel, Within, "vi"),
    ("bao gio giao", WhereIsParcel, Within, "vi"),
    ("khi nao giao", WhereIsParcel, Within, "vi"),
    ("giao chua", WhereIsParcel, Within, "vi"),
    // The balance.
    ("my balance", Balance, Within, "en"),
    ("balance", Balance, Whole, "en"),
    ("store credit", Balance, Within, "en"),
    ("ยอดเงิน", Balance, Within, "th"),
    ("ยอดคงเหลือ", Balance, Within, "th"),
    ("เครดิตร้าน", Balance, Within, "th"),
    ("so du", Balance, Within, "vi"),
    // A person.
    ("talk to a person", TalkToPerson, Within, "en"),
    ("talk to a human", TalkToPerson, Within, "en"),
    ("talk to someone", TalkToPerson, Within, "en"),
    ("real person", TalkToPerson, Within, "en"),
    ("speak to", TalkToPerson, Within, "en"),
    ("human", TalkToPerson, Whole, "en"),
    ("agent", TalkToPerson, Whole, "en"),
    ("คุยกับคน", TalkToPerson, Within, "th"),
    ("คุยกับแอดมิน", TalkToPerson, Within, "th"),
    ("ติดต่อแอดมิน", TalkToPerson, Within, "th"),
    ("พนักงาน", TalkToPerson, Within, "th"),
    ("gap nhan vien", TalkToPerson, Within, "vi"),
    ("nhan vien", TalkToPerson, Within, "vi"),
    ("noi chuyen voi", TalkToPerson, Within, "vi"),
    ("tu van vien", TalkToPerson, Within, "vi"),
    // One order, then the list.
    ("my order", MyOrder, Within, "en"),
    ("ออเดอร์ของฉัน", MyOrder, Within, "th"),
    ("คำสั่งซื้อของฉัน", MyOrder, Within, "th"),
    ("don hang cua toi", MyOrder, Within, "vi"),
    ("don cua toi", MyOrder, Within, "vi"),
    ("view orders", Orders, Within, "en"),
    ("my orders", Orders, Within, "en"),
    ("order status", Orders, Within, "en"),
    ("orders", Orders, Whole, "en"),
    ("คำสั่งซื้อ", Orders, Within, "th"),
    ("ออเดอร์", Orders, Within, "th"),
    ("xem don", Orders, Within, "vi"),
    ("kiem tra don", Orders, Within, "vi"),
    ("don hang", Orders, Whole, "vi"),
    // The cart, the catalog.
    ("cart", Cart, Whole, "en"),
    ("my cart", Cart, Whole, "en"),
    ("basket", Cart, Whole, "en"),
    ("ตะกร้า", Cart, Within, "th"),
    ("gio hang", Cart, Whole, "vi"),
    ("gio", Cart, Whole, "vi"),
    ("products", Products, Whole, "en"),
    ("catalog", Products, Whole, "en"),
    ("catalogue", Products, Whole, "en"),
    ("what do you sell", Products, Within, "en"),
    ("สินค้า", Products, Whole, "th"),
    ("ดูสินค้า", Products, Whole, "th"),
    ("san pham", Products, Whole, "vi"),
    ("xem san pham", Products, Whole, "vi"),
    // Menu and greetings: only when that is all the text says.
    ("menu", Menu, Whole, "en"),
    ("help", Menu, Whole, "en"),
    ("start", Menu, Whole, "en"),
    ("เมนู", Menu, Whole, "th"),
    ("ช่วยด้วย", Menu, Whole, "th"),
    ("tro giup", Menu, Whole, "vi"),
    ("bat dau", Menu, Whole, "vi"),
    ("hi", Greeting, Whole, "en"),
    ("hello", Greeting, Whole, "en"),
    ("hey", Greeting, Whole, "en"),
    ("good morning", Greeting, Whole, "en"),
    ("good afternoon", Greeting, Whole, "en"),
    ("good evening", Greeting, Whole, "en"),
    ("สวัสดี", Greeting, Whole, "th"),
    ("หวัดดี", Greeting, Whole, "th"),
    ("xin chao", Greeting, Whole, "vi"),
    ("chao", Greeting, Whole, "vi"),
    ("chao ban", Greeting, Whole, "vi"),
    ("alo", Greeting, Whole, "vi"),
];

/// Words said out of politeness or to address the shop; they change
/// nothing about what is asked.
const POLITE: &[&str] = &[
    "shop", "please", "pls", "plz", "there", "admin", "ad", "bot", "thanks", "oi", "a", "nhe",
    "em", "anh", "chi", "ban", "ah",
];
/// Thai particles a message ends with.
const THAI_PARTICLES: &[&str] = &["ครับ", "ค่ะ", "คะ", "คับ", "จ้า", "จ้ะ", "นะ", "หน่อย", "ค่า"];

/// Lower case, Vietnamese letters without their marks (`đ` as `d`),
/// punctuation as spaces, one space between words.
pub fn fold(text: &str) -> String {
    // Most typed text is plain ASCII: no marks to take off.
    if text.is_ascii() {
        let mut out = String::with_capacity(text.len());
        for w in text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '\''))
            .filter(|w| !w.is_empty())
        {
            let w: String = w.chars().filter(|c| *c != '\'').collect();
            if w.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(w.chars().map(|c| c.to_ascii_lowercase()));
        }
        return out;
    }
    let lower = text.to_lowercase();
    let bare: String = lower
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() || c == '\'' {
                base_letter(c)
            } else if is_thai(c) {
                c
            } else {
                ' '
            }
        })
        .filter(|c| *c != '\'')
        .collect();
    bare.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_thai(c: char) -> bool {
    ('\u{0E00}'..='\u{0E7F}').contains(&c)
}

/// The letter a Vietnamese (or French, Spanish…) letter is written on.
fn base_letter(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    const GROUPS: &[(&str, char)] = &[
        ("àáạảãâầấậẩẫăằắặẳẵ", 'a'),
        ("èéẹẻẽêềếệểễ", 'e'),
        ("ìíịỉĩ", 'i'),
        ("òóọỏõôồốộổỗơờớợởỡ", 'o'),
        ("ùúụủũưừứựửữ", 'u'),
        ("ỳýỵỷỹ", 'y'),
        ("đ", 'd'),
    ];
    GROUPS
        .iter()
        .find(|(letters, _)| letters.contains(c))
        .map_or(c, |(_, base)| *base)
}

/// The words of a folded text without polite ones and Thai particles.
fn meaningful(folded: &str) -> String {
    let mut words: Vec<String> = folded
        .split(' ')
        .filter(|w| !POLITE.contains(w))
        .map(str::to_string)
        .collect();
    for w in &mut words {
        while let Some(p) = THAI_PARTICLES
            .iter()
            .find(|p| w.ends_with(**p) && w.as_str() != **p)
        {
            w.truncate(w.len() - p.len());
        }
    }
    words.retain(|w| !w.is_empty() && !THAI_PARTICLES.contains(&w.as_str()));
    words.join(" ")
}

/// Whether `phrase` appears in the text's `words` as whole words in a
/// row (Thai, written without spaces: anywhere in `text`).
fn within(text: &str, words: &[&str], phrase: &str) -> bool {
    if !phrase.is_ascii() && phrase.chars().any(is_thai) {
        return text.contains(phrase);
    }
    (0..words.len()).any(|start| {
        let mut at = start;
        phrase.split(' ').all(|p| {
            let hit = words.get(at) == Some(&p);
            at += 1;
            hit
        })
    })
}

/// What the text asks for and the language it was asked in, if it reads
/// as one of the requests the menu offers.
pub fn recognise(text: &str) -> Option<(Intent, &'static str)> {
    let folded = fold(text);
    let core = meaningful(&folded);
    let (core_words, folded_words): (Vec<&str>, Vec<&str>) =
        (core.split(' ').collect(), folded.split(' ').collect());
    PHRASES
        .iter()
        .find(|(phrase, _, fit, _)| match fit {
            Whole => core == *phrase || folded == *phrase,
            Within => within(&core, &core_words, phrase) || within(&folded, &folded_words, phrase),
        })
        .map(|(_, intent, _, locale)| (*intent, *locale))
}

/// Words that make a text a question rather than a product's name.
const QUESTION_WORDS: &[&str] = &[
    "where",
    "what",
    "when",
    "why",
    "how",
    "who",
    "which",
    "is",
    "are",
    "can",
    "could",
    "will",
    "does",
    "did",
    "dau",
    "gi",
    "sao",
    "nao",
    "khong",
    "chua",
    "bao",
    "ไหม",
    "มั้ย",
    "ไหน",
    "อะไร",
    "ยังไง",
    "เมื่อไร",
    "หรือเปล่า",
    "ทำไม",
];

/// Whether the text asks something (a question mark, or a question word).
pub fn is_question(text: &str) -> bool {
    if text.contains('?') {
        return true;
    }
    let folded = fold(text);
    folded.split(' ').any(|w| QUESTION_WORDS.contains(&w))
        || QUESTION_WORDS
            .iter()
            .filter(|q| q.chars().any(is_thai))
            .any(|q| folded.contains(q))
}

/// Words that carry no product meaning in a search.
const FILLER: &[&str] = &[
    "a", "an", "the", "my", "i", "me", "you", "your", "do", "have", "want", "to", "for", "of",
    "in", "on", "it", "this", "that", "any", "some", "with", "and", "or", "please", "shop", "buy",
    "need", "looking", "toi", "ban", "co", "cho", "minh", "cua", "la", "nay", "muon", "mua", "xem",
    "voi", "shop", "oi", "nhe", "can", "tim",
];

/// The words of a search worth matching (folded, at least two letters).
pub fn search_words(text: &str) -> Vec<String> {
    meaningful(&fold(text))
        .split(' ')
        .filter(|w| w.chars().count() >= 2 && !FILLER.contains(w))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_in_three_languages_with_and_without_marks() {
        let cases = [
            ("view orders", Orders),
            ("My order?", MyOrder),
            ("cancel my order please", CancelOrder),
            ("where is my parcel", WhereIsParcel),
            ("Where's my package??", WhereIsParcel),
            ("my balance", Balance),
            ("talk to a person", TalkToPerson),
            ("xin chào shop", Greeting),
            ("xin chao shop", Greeting),
            ("Chào bạn", Greeting),
            ("hello there", Greeting),
            ("สวัสดีครับ", Greeting),
            ("ยกเลิกออเดอร์ค่ะ", CancelOrder),
            ("ของถึงไหนแล้วคะ", WhereIsParcel),
            ("ยอดเงินคงเหลือ", Balance),
            ("ขอคุยกับพนักงานหน่อย", TalkToPerson),
            ("hủy đơn", CancelOrder),
            ("huy don hang giup minh", CancelOrder),
            ("đơn hàng của tôi", MyOrder),
            ("don hang cua toi o dau", WhereIsParcel),
            ("số dư", Balance),
            ("gặp nhân viên", TalkToPerson),
            ("xem đơn hàng", Orders),
            ("giỏ hàng", Cart),
        ];
        for (text, want) in cases {
            assert_eq!(recognise(text).map(|r| r.0), Some(want), "{text:?}");
        }
        assert_eq!(recognise("xin chao shop").map(|r| r.1), Some("vi"));
        assert_eq!(recognise("สวัสดีค่ะ").map(|r| r.1), Some("th"));
    }

    #[test]
    fn product_words_and_chatter_are_not_requests() {
        for text in [
            "red tote bag",
            "do you ship to Chiang Mai",
            "mug",
            "hi, is the mug dishwasher safe",
            "my cart has a problem with the handle",
            "start date of the sale",
        ] {
            assert_eq!(recognise(text), None, "{text:?}");
        }
    }

    #[test]
    fn questions_and_search_words() {
        assert!(is_question("where is my parcel"));
        assert!(is_question("ship to Hanoi?"));
        assert!(is_question("có màu đỏ không"));
        assert!(!is_question("red tote bag"));
        assert_eq!(
            search_words("I want a red Tote bag"),
            ["red", "tote", "bag"]
        );
        assert_eq!(search_words("áo thun"), ["ao", "thun"]);
    }
}
