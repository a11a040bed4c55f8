/// Terminal display columns of text, for aligning tables that hold names in any script and emoji.
///
/// Counts per grapheme cluster (what the user sees as one character): East Asian wide and fullwidth
/// characters and emoji take two columns, combining marks and format characters none, everything else one.
/// An emoji sequence (flag, ZWJ family, keycap, `U+FE0F` presentation) is one two-column glyph on
/// current terminals. This is the usual `wcwidth` approximation; terminals disagree only on rare cases.
public enum DisplayWidth {
    /// The display width of `text`.
    public static func of<S: StringProtocol>(_ text: S) -> Int {
        // Printable ASCII, by far the commonest case, is one column per byte: no grapheme breaking needed.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text.utf8.count }
        var width = 0
        for character in text {
            width += of(character)
        }
        return width
    }

    /// The display width of one grapheme cluster.
    public static func of(_ character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if first.isASCII && scalars.count == 1 {
            return first.value < 0x20 || first.value == 0x7F ? 0 : 1
        }
        if scalars.count > 1 {
            for scalar in scalars where scalar.value == 0xFE0F || scalar.value == 0x200D || scalar.value == 0x20E3 {
                if scalars.contains(where: { $0.properties.isEmoji }) { return 2 }
            }
            if (0x1F1E6...0x1F1FF).contains(first.value) { return 2 }
        }
        var width = 0
        for scalar in scalars {
            width = max(width, of(scalar))
        }
        return width
    }

    /// The display width of one scalar taken alone.
    static func of(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x20 || (0x7F..<0xA0).contains(value) { return 0 }
        if value < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if (0x1160...0x11FF).contains(value) || value == 0x200B { return 0 }   // Hangul medial jamo, ZWSP
        if scalar.properties.isEmojiPresentation { return 2 }
        for range in wideRanges where range.contains(value) { return 2 }
        return 1
    }

    /// East Asian Wide (W) and Fullwidth (F) blocks of Unicode's EastAsianWidth.txt, in compact ranges.
    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF,
        0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF,
        0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4,
        0x17000...0x18CFF, 0x1B000...0x1B2FF, 0x1F200...0x1F2FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]

    /// `text` cut to at most `width` display columns, ending in `…` when something was cut.
    public static func truncate(_ text: String, to width: Int) -> String {
        guard width > 0 else { return "" }
        if of(text) <= width { return text }
        var result = ""
        var used = 0
        for character in text {
            let w = of(character)
            if used + w > width - 1 { break }
            result.append(character)
            used += w
        }
        return result + "…"
    }
}
