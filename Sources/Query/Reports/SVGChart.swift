import Foundation

/// Inline SVG charts for the HTML report: drawn as text, no script, no font or file fetched, so the
/// page reads the same offline, printed, or as a PDF.
///
/// Every mark carries its figures as `data-*` attributes and a `<title>` (the tooltip), which is also
/// how a test reads them back from the rendered DOM and compares them with the CSV files.
enum SVGChart {
    /// One bar of a bar chart: stacked segments (bottom first), and the attributes that identify it.
    struct Bar {
        var label: String
        var segments: [(value: Int, cssClass: String)]
        var attributes: [(String, String)]
        var title: String
        /// A marker drawn above the bar (new IPs on a login day).
        var marked = false

        var total: Int { segments.reduce(0) { $0 + $1.value } }
    }

    /// Vertical stacked bars, one per label (days), with a y axis of a few round ticks.
    static func columns(id: String, bars: [Bar], legend: [(String, String)], width: Int = 960, height: Int = 220) -> String {
        guard !bars.isEmpty else { return empty(id: id) }
        let left = 40, bottom = 42, top = 14
        let plotHeight = height - bottom - top
        let maximum = max(1, bars.map(\.total).max() ?? 1)
        let scale = niceCeiling(maximum)
        let slot = Double(width - left - 8) / Double(bars.count)
        let barWidth = max(2, slot * 0.72)
        var svg = open(id: id, width: width, height: height)
        for tick in ticks(scale) {
            let y = Double(top) + Double(plotHeight) * (1 - Double(tick) / Double(scale))
            svg += "<line class=\"grid\" x1=\"\(left)\" x2=\"\(width - 8)\" y1=\"\(f(y))\" y2=\"\(f(y))\"/>"
            svg += "<text class=\"tick\" x=\"\(left - 6)\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(tick)</text>"
        }
        let labelEvery = max(1, Int((Double(bars.count) / (Double(width) / 70)).rounded(.up)))
        for (index, bar) in bars.enumerated() {
            let x = Double(left) + slot * Double(index) + (slot - barWidth) / 2
            var base = Double(top + plotHeight)
            svg += "<g class=\"bar\"\(attributes(bar.attributes))><title>\(HTML.escape(bar.title))</title>"
            for segment in bar.segments where segment.value > 0 {
                let h = Double(plotHeight) * Double(segment.value) / Double(scale)
                base -= h
                svg += "<rect class=\"\(segment.cssClass)\" x=\"\(f(x))\" y=\"\(f(base))\" width=\"\(f(barWidth))\" height=\"\(f(h))\"/>"
            }
            if bar.marked {
                svg += "<circle class=\"mark\" cx=\"\(f(x + barWidth / 2))\" cy=\"\(f(base - 7))\" r=\"4\"/>"
            }
            svg += "</g>"
            if index % labelEvery == 0 {
                svg += "<text class=\"label\" x=\"\(f(x + barWidth / 2))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(HTML.escape(bar.label))</text>"
            }
        }
        svg += legendText(legend, x: left, y: height - 8)
        return svg + "</svg>"
    }

    /// Horizontal bars, one per row (OOM victims), longest first, with the count written at the end.
    static func rows(id: String, bars: [Bar], width: Int = 960) -> String {
        guard !bars.isEmpty else { return empty(id: id) }
        let rowHeight = 22, left = 260, top = 6
        let height = top + rowHeight * bars.count + 6
        let maximum = max(1, bars.map(\.total).max() ?? 1)
        var svg = open(id: id, width: width, height: height)
        for (index, bar) in bars.enumerated() {
            let y = top + rowHeight * index
            let length = Double(width - left - 60) * Double(bar.total) / Double(maximum)
            svg += "<g class=\"bar\"\(attributes(bar.attributes))><title>\(HTML.escape(bar.title))</title>"
            svg += "<text class=\"label\" x=\"\(left - 8)\" y=\"\(y + 15)\" text-anchor=\"end\">\(HTML.escape(truncated(bar.label, 38)))</text>"
            svg += "<rect class=\"\(bar.segments.first?.cssClass ?? "series-a")\" x=\"\(left)\" y=\"\(y + 3)\" width=\"\(f(max(1, length)))\" height=\"\(rowHeight - 6)\"/>"
            svg += "<text class=\"value\" x=\"\(f(Double(left) + length + 6))\" y=\"\(y + 15)\">\(bar.total)</text></g>"
        }
        return svg + "</svg>"
    }

    /// One lane per app, a span per outage between `from` and `to` (epochs), over [start, end].
    struct Span {
        var lane: String
        var from: Int64
        var to: Int64
        var open: Bool
        var attributes: [(String, String)]
        var title: String
    }

    static func timeline(id: String, spans: [Span], start: Int64, end: Int64, axis: [(Int64, String)], width: Int = 960) -> String {
        guard !spans.isEmpty, end > start else { return empty(id: id) }
        var lanes: [String] = []
        for span in spans where !lanes.contains(span.lane) { lanes.append(span.lane) }
        let laneHeight = 22, left = 260, top = 6, bottom = 24
        let height = top + laneHeight * lanes.count + bottom
        // Room on the right for the last axis label, centred on its tick.
        let plotWidth = Double(width - left - 56)
        func x(_ epoch: Int64) -> Double {
            Double(left) + plotWidth * Double(min(max(epoch, start), end) - start) / Double(end - start)
        }
        var svg = open(id: id, width: width, height: height)
        for (index, lane) in lanes.enumerated() {
            let y = top + laneHeight * index
            if index % 2 == 0 {
                svg += "<rect class=\"lane\" x=\"\(left)\" y=\"\(y)\" width=\"\(f(plotWidth))\" height=\"\(laneHeight)\"/>"
            }
            svg += "<text class=\"label\" x=\"\(left - 8)\" y=\"\(y + 15)\" text-anchor=\"end\">\(HTML.escape(truncated(lane, 38)))</text>"
        }
        for (epoch, label) in axis {
            let position = x(epoch)
            svg += "<line class=\"grid\" x1=\"\(f(position))\" x2=\"\(f(position))\" y1=\"\(top)\" y2=\"\(height - bottom)\"/>"
            svg += "<text class=\"tick\" x=\"\(f(position))\" y=\"\(height - 8)\" text-anchor=\"middle\">\(HTML.escape(label))</text>"
        }
        for span in spans {
            guard let lane = lanes.firstIndex(of: span.lane) else { continue }
            let y = top + laneHeight * lane
            let from = x(span.from), to = x(span.to)
            svg += "<g class=\"outage\"\(attributes(span.attributes))><title>\(HTML.escape(span.title))</title>"
            svg += "<rect class=\"\(span.open ? "series-open" : "series-down")\" x=\"\(f(from))\" y=\"\(y + 4)\" width=\"\(f(max(2, to - from)))\" height=\"\(laneHeight - 8)\"/></g>"
        }
        return svg + "</svg>"
    }

    // MARK: Pieces

    private static func open(id: String, width: Int, height: Int) -> String {
        "<svg id=\"\(id)\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" role=\"img\">"
    }

    private static func empty(id: String) -> String {
        "<p id=\"\(id)\" class=\"empty\">Nothing in this window.</p>"
    }

    private static func legendText(_ legend: [(String, String)], x: Int, y: Int) -> String {
        var out = "", position = x
        for (name, cssClass) in legend {
            out += "<rect class=\"\(cssClass)\" x=\"\(position)\" y=\"\(y - 9)\" width=\"10\" height=\"10\"/>"
            out += "<text class=\"legend\" x=\"\(position + 14)\" y=\"\(y)\">\(HTML.escape(name))</text>"
            position += 22 + name.count * 7
        }
        return out
    }

    private static func attributes(_ pairs: [(String, String)]) -> String {
        pairs.map { " \($0.0)=\"\(HTML.escape($0.1))\"" }.joined()
    }

    /// 1, 2, 5 × 10^n at or above `value`.
    static func niceCeiling(_ value: Int) -> Int {
        var magnitude = 1
        while true {
            for step in [1, 2, 5] where step * magnitude >= value { return step * magnitude }
            magnitude *= 10
        }
    }

    private static func ticks(_ scale: Int) -> [Int] {
        let step = max(1, scale / 4)
        return Array(stride(from: 0, through: scale, by: step))
    }

    private static func truncated(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }

    private static func f(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}

/// Text made safe for HTML content and attribute values.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
