// Names as an auditor's viewer shows them. A user name is attacker-chosen on a failed login: bidi
// controls (U+202E turns `admin‮txt.exe` around on screen), zero-width characters and letters
// from two scripts (Cyrillic `а` in `аdmin`) can make one name pass for another. Such names are
// kept, but with every invisible or format character written as a visible `<U+XXXX>` marker, and
// flagged so a SIEM rule can find them. Pure.

// Unicode format characters (Cf): bidi embeddings, overrides, isolates and marks, zero-width
// joiners and spaces, the BOM, soft hyphen, invisible operators, tag characters
const FORMAT = /\p{Cf}/gu
const LETTER = /\p{L}/u
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

// Scripts a letter is sorted into; Han, Hiragana, Katakana, Hangul and Bopomofo count as one (CJK
// names mix them as a matter of course)
const SCRIPTS: Array<[string, RegExp]> = [
  ['Latin', /\p{Script=Latin}/u], ['Greek', /\p{Script=Greek}/u], ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Armenian', /\p{Script=Armenian}/u], ['Hebrew', /\p{Script=Hebrew}/u], ['Arabic', /\p{Script=Arabic}/u],
  ['Georgian', /\p{Script=Georgian}/u], ['Cherokee', /\p{Script=Cherokee}/u], ['Devanagari', /\p{Script=Devanagari}/u],
  ['Thai', /\p{Script=Thai}/u], ['Ethiopic', /\p{Script=Ethiopic}/u],
  ['CJK', /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}]/u]
]

function scriptOf (letter: string): string {
  for (const [name, re] of SCRIPTS) if (re.test(letter)) return name
  return 'other'
}

/** True when the letters of `name` come from more than one script. */
export function mixesScripts (name: string): boolean {
  let seen: string | null = null
  for (const ch of name) {
    if (!LETTER.test(ch)) continue
    const s = scriptOf(ch)
    if (seen === null) seen = s
    else if (s !== seen) return true
  }
  return false
}

/** The name with format characters made visible, and whether it could fool a reader. */
export function displaySafeName (name: string): { text: string, suspicious: boolean } {
  // printable ASCII has no format characters and one script: the common case, answered at once
  if (PRINTABLE_ASCII.test(name)) return { text: name, suspicious: false }
  const text = name.replace(FORMAT, (c) => `<U+${(c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}>`)
  return { text, suspicious: text !== name || mixesScripts(name) }
}
