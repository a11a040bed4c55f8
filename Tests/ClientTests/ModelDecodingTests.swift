import Testing
@testable import Client

/// The lenient shapes real servers of several versions send, read from hand-written objects.
@Suite struct ModelDecodingTests {
    func bytes(_ text: String) -> ArraySlice<UInt8> { Array(text.utf8)[...] }

    @Test func taskErrorAsObjectStringNullOrLegacyErrorMessage() throws {
        let object = try ModelDecoding.task(bytes(#"{"id":295,"type":"backup","percent":42.5,"message":null,"active":false,"pending":false,"success":false,"error":{"message":"Backup failed: \"disk full\"","code":"crashed"},"creationTime":"2026-11-20T11:37:29.000Z","ts":1795174650}"#))
        #expect(object.id == "295" && object.percent == 42 && object.message == nil && object.ts == "1795174650")
        #expect(object.errorMessage == "Backup failed: \"disk full\"" && object.success == false && object.isFinished)
        let string = try ModelDecoding.task(bytes(#"{"id":"7","type":"app","error":"boom","active":true,"creationTime":"2026-11-20T11:37:29Z"}"#))
        #expect(string.errorMessage == "boom" && !string.isFinished && string.pending == nil)
        let none = try ModelDecoding.task(bytes(#"{"id":"8","type":"app","error":null,"percent":100,"active":false,"pending":false,"success":true,"result":{"x":[1]},"creationTime":"2026-11-20T11:37:29Z"}"#))
        #expect(none.errorMessage == nil && none.success == true)
        let legacy = try ModelDecoding.task(bytes(#"{"id":"9","type":"update","errorMessage":"Update failed","active":false,"creationTime":"2019-03-01T10:00:00.000Z"}"#))
        #expect(legacy.errorMessage == "Update failed" && legacy.success == nil && legacy.pending == nil)
        let legacyOK = try ModelDecoding.task(bytes(#"{"id":"10","type":"update","errorMessage":null,"active":false,"creationTime":"2019-03-01T10:00:00.000Z"}"#))
        #expect(legacyOK.errorMessage == nil)
    }

    @Test func eventAndNotificationFieldsUnknownKeysKept() throws {
        let text = #"{"creationTime":"2026-11-20T11:37:29.000Z","newField":{"nested":[1,2]},"action":"brand.new.action","id":"e-1","source":{},"data":{"k":"v"}}"#
        let event = try ModelDecoding.event(bytes(text))
        #expect(event.id == "e-1" && event.action == "brand.new.action" && event.epochSeconds == 1_795_174_649)
        #expect(event.raw == Array(text.utf8))
        let alert = try ModelDecoding.notification(bytes(#"{"id":"12","eventId":null,"title":"Reboot Required","message":"…","creationTime":"2026-11-20T11:37:29.000Z","acknowledged":false}"#))
        #expect(alert.eventId == nil && alert.title == "Reboot Required" && !alert.acknowledged)
        let linked = try ModelDecoding.notification(bytes(#"{"id":13,"eventId":"e-1","title":"App down","creationTime":"2026-11-20T11:37:29.000Z","acknowledged":true}"#))
        #expect(linked.id == "13" && linked.eventId == "e-1" && linked.acknowledged)
    }

    @Test func objectsWithoutIdOrTimeAreRejected() {
        #expect(throws: ObjectShapeError.self) { try ModelDecoding.event(bytes(#"{"action":"x","creationTime":"2026-11-20T11:37:29Z"}"#)) }
        #expect(throws: ObjectShapeError.self) { try ModelDecoding.event(bytes(#"{"id":"","creationTime":"2026-11-20T11:37:29Z"}"#)) }
        #expect(throws: ObjectShapeError.self) { try ModelDecoding.event(bytes(#"{"id":"a","creationTime":"last tuesday"}"#)) }
        #expect(throws: ObjectShapeError.self) { try ModelDecoding.task(bytes(#"{"id":null,"creationTime":"2026-11-20T11:37:29Z"}"#)) }
    }

    @Test func wrappedAndUnwrappedSingleObjects() throws {
        let inner = #"{"id":"e-2","action":"app.up","creationTime":"2026-11-20T11:37:29.000Z","data":{"event":{"id":"docker"}}}"#
        let wrapped = try CloudronClient.unwrap(Array("{\"event\":\(inner)}".utf8), key: "event")
        #expect(Array(wrapped) == Array(inner.utf8))
        let plain = try CloudronClient.unwrap(Array(inner.utf8), key: "event")
        #expect(Array(plain) == Array(inner.utf8), "an unwrapped object that merely contains an `event` key deeper down")
    }
}
