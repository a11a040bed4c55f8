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
    // The lenient framer, with the input as the second element of a page: JSON is framed as one valid
    // element; whatever it frames as that element is valid exactly when the oracle accepts it.
    let page = Array(#"{"l":[0,"#.utf8) + bytes + Array("]}".utf8)
    let space: Set<UInt8> = [0x20, 0x0A, 0x0D, 0x09]
    let trimmed = Array(bytes.drop(while: space.contains).reversed().drop(while: space.contains).reversed())
    if let framed = (try? RawJSON.framedElements(ofArrayAt: "l", in: page)) ?? nil, framed.count == 2,
       Array(framed[1].bytes) == trimmed {
        guard framed[0].invalid == nil, (framed[1].invalid == nil) == expected else {
            fatalError("the framer marks \(framed[1].invalid == nil ? "valid" : "invalid") what the oracle \(expected ? "accepts" : "rejects")")
        }
    } else if expected {
        fatalError("the framer does not frame JSON as one element")
    }
    _ = try? RawJSON.framedElements(ofArrayAt: "l", in: bytes)
    // The other entry points walk the same grammar; they must not crash on anything either.
    _ = RawJSON.scalarValues(in: bytes)
    _ = try? RawJSON.values(forKeys: ["id", "data"], in: bytes)
    return 0
}
