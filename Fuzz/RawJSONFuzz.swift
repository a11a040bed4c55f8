// libFuzzer target behind `make fuzz`: RawJSON's verdict on every input must equal the oracle's
// (Tests/ClientTests/JSONOracle.swift, compiled in: SQLite's json_valid plus the UTF-8, NUL and depth
// rules). A disagreement is a crash, so libFuzzer saves the input under .build-fuzz/ and stops.

nonisolated(unsafe) private let oracle = JSONOracle()

@_cdecl("LLVMFuzzerTestOneInput")
public func rawJSONFuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let accepted = (try? RawJSON.validate(bytes)) != nil
    let expected = oracle.accepts(bytes)
    guard accepted == expected else {
        let hex = bytes.prefix(200).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        fatalError("RawJSON \(accepted ? "accepts" : "rejects") what the oracle \(expected ? "accepts" : "rejects"): \(hex)")
    }
    // The other entry points walk the same grammar; they must not crash on anything either.
    _ = RawJSON.scalarValues(in: bytes)
    _ = try? RawJSON.values(forKeys: ["id", "data"], in: bytes)
    return 0
}
