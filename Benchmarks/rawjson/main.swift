// Release micro-benchmark of RawJSON and ModelDecoding: not a package target, not run by any test.
// Compiled with the Client sources it measures (see run.sh); the figures go to Benchmarks/NOTES.md.
// Throughput in CPU time (best of five), which a shared machine's load disturbs far less than wall time.
#if canImport(Glibc)
import Glibc
#endif

func load(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { fatalError("cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<count])
    }
}

func cpuNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

func measure(_ label: String, bytes: Int, rounds: Int = 20, _ body: () throws -> Int) rethrows {
    var best = Double.infinity
    var sink = 0
    for _ in 0..<5 {
        let start = cpuNanoseconds()
        for _ in 0..<rounds { sink &+= try body() }
        best = min(best, Double(cpuNanoseconds() - start) / 1e9)
    }
    let rate = (Double(bytes * rounds) / best / 1e7).rounded() / 100
    print("\(label): \(rate) GB/s (checksum \(sink))")
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else { fatalError("usage: rawjson-bench EVENTLOG_PAGE.json TASKS_PAGE.json") }
let events = load(arguments[1])
// The simulator's task list is short: 200 copies of its elements make a body worth timing.
let taskElements = try RawJSON.elements(ofArrayAt: "tasks", in: load(arguments[2]))
var tasks = Array(#"{"tasks":["#.utf8)
for copy in 0..<200 {
    for (position, element) in taskElements.enumerated() {
        if copy + position > 0 { tasks.append(0x2C) }
        tasks.append(contentsOf: element)
    }
}
tasks.append(contentsOf: Array("]}".utf8))
let elements = try RawJSON.elements(ofArrayAt: "eventlogs", in: events)

try measure("validate", bytes: events.count) { try RawJSON.validate(events); return 1 }
try measure("elements(ofArrayAt:)", bytes: events.count) {
    try RawJSON.elements(ofArrayAt: "eventlogs", in: events).count
}
try measure("decode events", bytes: events.count) {
    try RawJSON.elements(ofArrayAt: "eventlogs", in: events).map(ModelDecoding.event).count
}
try measure("decode tasks", bytes: tasks.count) {
    try RawJSON.elements(ofArrayAt: "tasks", in: tasks).map(ModelDecoding.task).count
}
try measure("values(forKeys: source, data)", bytes: events.count) {
    try elements.reduce(0) { $0 + (try RawJSON.values(forKeys: ["source", "data"], in: Array($1))).count }
}
measure("scalarValues", bytes: events.count) {
    elements.reduce(0) { $0 + RawJSON.scalarValues(in: $1).count }
}
