import XCTest
@testable import STNCore
final class SmokeTests: XCTestCase { func testVersion() { XCTAssertEqual(STNCoreVersion.format, "1") } }
