//! Tests of the reader's PAX record parser (the archive-level cases live under tests/).

use super::*;

fn check(data: &str, expected: Result<Vec<(&str, &str)>, &str>) {
    let got = parse_pax_records(data.as_bytes());
    match expected {
        Ok(records) => {
            let got = got.unwrap_or_else(|err| panic!("{data:?}: {err}"));
            let got: Vec<(&str, &str)> = got
                .iter()
                .map(|(key, value)| (*key, std::str::from_utf8(value).unwrap()))
                .collect();
            assert_eq!(got, records, "{data:?}");
        }
        Err(fragment) => {
            let err = got.expect_err(data);
            assert!(err.contains(fragment), "{data:?}: {err}");
        }
    }
}

#[test]
fn parses_pax_records() {
    check("", Ok(vec![]));
    check("11 path=ab\n", Ok(vec![("path", "ab")]));
    check(
        "11 path=ab\n12 size=123\n",
        Ok(vec![("path", "ab"), ("size", "123")]),
    );
    check("12 path=a=b\n", Ok(vec![("path", "a=b")]));
    check("path=ab\n", Err("without a length"));
    check("x path=ab\n", Err("not a number"));
    check("99 path=ab\n", Err("does not match"));
    check("10 path=ab\n", Err("does not match"));
    check("2 \n", Err("does not match"));
    check("9 pathab\n", Err("without '='"));
}
