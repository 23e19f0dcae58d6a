import Foundation
import XCTest
@testable import STNCore

/// Model files: round trip, a file exported from PyTorch, every refusal, and a fuzz loop.
final class ModelFileTests: XCTestCase {
    static let smallConfig = ModelConfig(
        input: InputSpec(height: 12, width: 12, channels: 1, mean: [0.5], std: [0.25]),
        transformer: SpatialTransformerConfig(
            transform: .attention,
            localisation: [.conv2d(outChannels: 2, kernelSize: 3), .maxPool2d(kernelSize: 2, stride: 2), .relu],
            regressorHidden: [4], glimpseHeight: 8, glimpseWidth: 8),
        classifier: [.flatten, .linear(outFeatures: 3)])

    static func smallModelBytes() throws -> (Data, STCNN) {
        let net = try STCNN(config: smallConfig, seed: 5)
        let data = try Safetensors.encode(
            tensors: net.namedParameters.map { ($0.name, $0.parameter.value) }, metadata: smallConfig.metadata)
        return (data, net)
    }

    private func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent(
            "stncore-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
    }

    /// Loads `bytes` and returns the error (failing if none).
    private func refusal(_ bytes: Data, file: StaticString = #filePath, line: UInt = #line) -> ModelFileError? {
        do {
            _ = try STNModel.load(bytes: bytes, path: "model.safetensors")
            XCTFail("loaded", file: file, line: line)
        } catch let error as ModelFileError {
            return error
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
        }
        return nil
    }

    /// A safetensors file from a header object and a data section, for hand-made damage.
    private func craft(header: [String: Any], dataBytes: Int) throws -> Data {
        var json = try JSONSerialization.data(withJSONObject: header)
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data()
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(Data(count: dataBytes))
        return data
    }

    private func header(of bytes: Data) throws -> ([String: Any], Int) {
        let length = Int(
            bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let object = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + length))) as! [String: Any]
        return (object, bytes.count - 8 - length)
    }

    /// Every keypoint localisation net (spatial soft-argmax) survives the metadata round trip,
    /// and a model with it predicts the same θ after loading as the network that wrote it.
    func testKeypointLocalisationRoundTrip() throws {
        for localisation in VideoLocalisationNet.allCases where localisation != .small {
            let config = ModelConfig.videoAttention(
                localisationSide: 16, glimpse: 8, classes: 3, localisationNet: localisation)
            XCTAssertEqual(try ModelConfig(metadata: config.metadata), config)
            let net = try STCNN(config: config, seed: 3)
            var random = RandomSource(seed: 4)
            for p in net.parameters { for i in 0..<p.value.count { p.value[i] = random.uniform(-0.3, 0.3) } }
            let data = try Safetensors.encode(
                tensors: net.namedParameters.map { ($0.name, $0.parameter.value) }, metadata: config.metadata)
            let model = try STNModel.load(bytes: data, path: "\(localisation).safetensors")
            let pixels = (0..<(2 * 256)).map { _ in UInt8(random.int(below: 256)) }
            var theta = [Float](repeating: 0, count: 6)
            model.makePredictor(maxBatch: 2).predict(luma: pixels, batch: 2, theta: &theta)
            let x = pixels.map { (Float($0) / 255 - 0.2) / 0.25 }
            let expected = Array(UnsafeBufferPointer(start: net.transformer.predictTheta(x, batch: 2), count: 6))
            for i in 0..<6 { XCTAssertEqual(theta[i], expected[i], accuracy: 1e-6, "\(localisation)") }
            XCTAssertNotEqual(theta[1], theta[4], "\(localisation)")  // the two inputs differ, so do their windows
        }
    }

    func testRoundTripThroughAFile() throws {
        let net = try STCNN(config: Self.smallConfig, seed: 6)
        // Make the weights non-trivial (the regressor starts at zero).
        var random = RandomSource(seed: 7)
        for p in net.parameters { for i in 0..<p.value.count { p.value[i] = random.uniform(-0.5, 0.5) } }
        let url = temporaryURL("roundtrip.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try net.save(to: url)
        let model = try STNModel.load(contentsOf: url)
        XCTAssertEqual(model.config, Self.smallConfig)
        XCTAssertEqual(model.transformKind, .attention)
        XCTAssertEqual([model.inputHeight, model.inputWidth, model.inputChannels, model.parameterCount], [12, 12, 1, 3])
        for (name, parameter) in net.namedParameters {
            XCTAssertEqual(model.tensors[name]?.values, parameter.value.values, name)
        }
        let reloaded = try STCNN(contentsOf: url)
        for (a, b) in zip(reloaded.namedParameters, net.namedParameters) {
            XCTAssertEqual(a.parameter.value.values, b.parameter.value.values)
        }
        // The predictor reproduces the network's θ on the same pixels.
        var pixels = [UInt8](repeating: 0, count: 2 * 144)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i * 37 + 11) }
        let images = pixels.map { Float($0) / 255 }
        _ = images.withUnsafeBufferPointer { net.logits(images: $0.baseAddress!, batch: 2, training: false) }
        let expected = Array(UnsafeBufferPointer(start: net.lastTheta!, count: 6))
        var theta = [Float](repeating: 0, count: 6)
        model.makePredictor(maxBatch: 2).predict(luma: pixels, batch: 2, theta: &theta)
        for i in 0..<6 { XCTAssertEqual(theta[i], expected[i], accuracy: 1e-5) }
    }

    func testModelExportedFromPyTorchLoadsAndAgrees() throws {
        let model = try STNModel.load(contentsOf: PyTorchReferenceTests.fixtureURL("stn_model_reference.safetensors"))
        XCTAssertEqual(model.transformKind, .affine)
        XCTAssertEqual(
            [model.inputHeight, model.inputWidth, model.inputChannels, model.parameterCount, model.glimpseHeight],
            [16, 16, 1, 6, 12])
        let (_, expected) = try Safetensors.load(
            contentsOf: PyTorchReferenceTests.fixtureURL("stn_model_expected.safetensors"))
        let pixels = expected["pixels"]!.values.map { UInt8($0) }
        var theta = [Float](repeating: 0, count: 18)
        model.makePredictor(maxBatch: 3).predict(luma: pixels, batch: 3, theta: &theta)
        let thetaExpected = expected["theta"]!.values
        for i in 0..<18 { XCTAssertEqual(theta[i], thetaExpected[i], accuracy: 1e-5, "θ[\(i)]") }
        // The whole ST-CNN (sampler and classifier included) matches PyTorch's scores.
        let net = try STCNN(contentsOf: PyTorchReferenceTests.fixtureURL("stn_model_reference.safetensors"))
        let images = pixels.map { Float($0) / 255 }
        let logits = images.withUnsafeBufferPointer {
            Array(UnsafeBufferPointer(start: net.logits(images: $0.baseAddress!, batch: 3, training: false), count: 9))
        }
        let logitsExpected = expected["logits"]!.values
        for i in 0..<9 { XCTAssertEqual(logits[i], logitsExpected[i], accuracy: 1e-4, "logit[\(i)]") }
    }

    func testPredictorBatchesAgreeWithSingleImages() throws {
        let model = try STNModel.load(contentsOf: PyTorchReferenceTests.fixtureURL("stn_model_reference.safetensors"))
        let predictor = model.makePredictor(maxBatch: 4)
        var pixels = [UInt8](repeating: 0, count: 4 * 256)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) }
        var batched = [Float](repeating: 0, count: 24), single = [Float](repeating: 0, count: 6)
        pixels.withUnsafeBufferPointer { p in
            batched.withUnsafeMutableBufferPointer {
                predictor.predict(luma: p.baseAddress!, batch: 4, theta: $0.baseAddress!)
            }
            for n in 0..<4 {
                single.withUnsafeMutableBufferPointer {
                    predictor.predict(luma: p.baseAddress! + n * 256, batch: 1, theta: $0.baseAddress!)
                }
                for i in 0..<6 { XCTAssertEqual(single[i], batched[n * 6 + i], accuracy: 1e-5) }
            }
        }
    }

    func testErrorsNameTheFileAndTheKey() throws {
        var (bytes, net) = try Self.smallModelBytes()
        _ = net
        // Wrong shape.
        let tensors = net.namedParameters.map { ($0.name, $0.parameter.value) }
        let wrong = tensors.map { $0.0 == "fc_loc.0.weight" ? ($0.0, Tensor(shape: [5, 8])) : $0 }
        var error = refusal(try Safetensors.encode(tensors: wrong, metadata: Self.smallConfig.metadata))
        XCTAssertEqual(error?.kind, .shapeMismatch)
        XCTAssertEqual(
            error?.description,
            "model.safetensors: fc_loc.0.weight: shape [5, 8] in the file, the architecture needs [4, 50]")
        // Unknown key.
        error = refusal(
            try Safetensors.encode(
                tensors: tensors + [("loc.9.weight", Tensor(shape: [1]))], metadata: Self.smallConfig.metadata))
        XCTAssertEqual(error?.kind, .unknownKey); XCTAssertEqual(error?.key, "loc.9.weight")
        // Missing key.
        error = refusal(
            try Safetensors.encode(
                tensors: tensors.filter { $0.0 != "fc_loc.2.bias" }, metadata: Self.smallConfig.metadata))
        XCTAssertEqual(error?.kind, .missingKey); XCTAssertEqual(error?.key, "fc_loc.2.bias")
        // Bad metadata: unknown transform, missing metadata, newer version, impossible architecture.
        var metadata = Self.smallConfig.metadata
        metadata["transform"] = "spiral"
        error = refusal(try Safetensors.encode(tensors: tensors, metadata: metadata))
        XCTAssertEqual(error?.kind, .badMetadata); XCTAssertEqual(error?.key, "__metadata__.transform")
        error = refusal(try Safetensors.encode(tensors: tensors, metadata: [:]))
        XCTAssertEqual(error?.key, "__metadata__.format")
        metadata = Self.smallConfig.metadata; metadata["format_version"] = "2"
        error = refusal(try Safetensors.encode(tensors: tensors, metadata: metadata))
        XCTAssertEqual(error?.key, "__metadata__.format_version")
        metadata = Self.smallConfig.metadata
        metadata["localisation"] =
            #"{"layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 40}], "regressor_hidden": [4]}"#
        error = refusal(try Safetensors.encode(tensors: tensors, metadata: metadata))
        XCTAssertEqual(error?.kind, .badMetadata); XCTAssertEqual(error?.key, "__metadata__.localisation")
        metadata["localisation"] =
            #"{"layers": [{"type": "conv2d", "out_channels": 100000000, "kernel_size": 3}], "regressor_hidden": [4]}"#
        XCTAssertEqual(refusal(try Safetensors.encode(tensors: tensors, metadata: metadata))?.kind, .badMetadata)

        // Truncated: shorter than the length field, than the header, than the data.
        XCTAssertEqual(refusal(bytes.prefix(5))?.kind, .truncated)
        XCTAssertEqual(refusal(bytes.prefix(40))?.kind, .truncated)
        error = refusal(bytes.prefix(bytes.count - 4))
        XCTAssertEqual(error?.kind, .truncated)
        XCTAssertNotNil(error?.key)
        // Oversized header length.
        var huge = bytes
        huge.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(200_000_000).littleEndian) { Data($0) })
        XCTAssertEqual(refusal(huge)?.kind, .headerTooLarge)
        huge.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64.max.littleEndian) { Data($0) })
        XCTAssertEqual(refusal(huge)?.kind, .headerTooLarge)
        // Header that is not JSON.
        var garbled = bytes
        garbled[8] = UInt8(ascii: "#")
        XCTAssertEqual(refusal(garbled)?.kind, .malformedHeader)

        // Overlapping offsets, a gap, a non-F32 dtype, negative shape: hand-made headers.
        var (object, dataBytes) = try header(of: bytes)
        let names = object.keys.filter { $0 != "__metadata__" }.sorted {
            ((object[$0] as! [String: Any])["data_offsets"] as! [Int])[0]
                < ((object[$1] as! [String: Any])["data_offsets"] as! [Int])[0]
        }
        var damaged = object
        var second = damaged[names[1]] as! [String: Any]
        var offsets = second["data_offsets"] as! [Int]
        second["data_offsets"] = [offsets[0] - 4, offsets[1] - 4]
        damaged[names[1]] = second
        error = refusal(try craft(header: damaged, dataBytes: dataBytes))
        XCTAssertEqual(error?.kind, .overlapping); XCTAssertEqual(error?.key, names[1])
        damaged = object
        second = damaged[names.last!] as! [String: Any]
        offsets = second["data_offsets"] as! [Int]
        second["data_offsets"] = [offsets[0] + 4, offsets[1] + 4]
        damaged[names.last!] = second
        error = refusal(try craft(header: damaged, dataBytes: dataBytes + 4))
        XCTAssertEqual(error?.kind, .gap)
        damaged = object
        second = damaged[names[0]] as! [String: Any]
        second["dtype"] = "F16"
        damaged[names[0]] = second
        error = refusal(try craft(header: damaged, dataBytes: dataBytes))
        XCTAssertEqual(error?.kind, .unsupportedDType)
        XCTAssertEqual(error?.description, "model.safetensors: \(names[0]): dtype F16 is not supported (only F32)")
        second["dtype"] = "F32"; second["shape"] = [-1, 2]
        damaged[names[0]] = second
        XCTAssertEqual(refusal(try craft(header: damaged, dataBytes: dataBytes))?.kind, .malformedHeader)
        second["shape"] = [Int(1) << 40, Int(1) << 40]
        damaged[names[0]] = second
        XCTAssertEqual(refusal(try craft(header: damaged, dataBytes: dataBytes))?.kind, .badOffsets)
        object["__metadata__"] = ["format": 1]
        XCTAssertEqual(refusal(try craft(header: object, dataBytes: dataBytes))?.kind, .badMetadata)

        // Random bytes.
        var random = RandomSource(seed: 42)
        for length in [0, 7, 8, 9, 64, 4096] {
            let noise = Data((0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            XCTAssertNotNil(refusal(noise))
        }
        bytes = Data("{\"__metadata__\": {}}".utf8)
        XCTAssertNotNil(refusal(bytes))
    }

    func testMissingFileIsAnError() {
        let url = temporaryURL("does-not-exist.safetensors")
        XCTAssertThrowsError(try STNModel.load(contentsOf: url)) { error in
            XCTAssertEqual((error as? ModelFileError)?.kind, .unreadable)
            XCTAssertTrue(String(describing: error).hasPrefix(url.path + ": "))
        }
    }

    /// 3000 mutated files (deterministic): each loads or throws a ModelFileError, never traps.
    /// Mutations: flipped/overwritten bytes (mostly in the header), truncation, insertion,
    /// and a random header-length field.
    func testFuzzedFilesNeverCrash() throws {
        let (valid, _) = try Self.smallModelBytes()
        let headerEnd =
            8
            + Int(valid.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var random = RandomSource(seed: 2015)
        var loaded = 0, refused: [ModelFileError.Kind: Int] = [:]
        let start = Date()
        for _ in 0..<3000 {
            var bytes = valid
            switch random.int(below: 10) {
            case 0: bytes = bytes.prefix(random.int(below: bytes.count))
            case 1:
                let at = random.int(below: headerEnd)
                bytes.insert(
                    contentsOf: (0..<(1 + random.int(below: 8))).map { _ in UInt8(truncatingIfNeeded: random.next()) },
                    at: at)
            case 2:
                bytes.replaceSubrange(
                    0..<8, with: withUnsafeBytes(of: random.next() % UInt64(2 * headerEnd)) { Data($0) })
            default:
                for _ in 0..<(1 + random.int(below: 4)) {
                    let at =
                        random.int(below: 10) < 8
                        ? 8 + random.int(below: headerEnd - 8) : random.int(below: bytes.count)
                    bytes[at] =
                        random.int(below: 2) == 0
                        ? bytes[at] ^ UInt8(1 << random.int(below: 8))
                        : [UInt8]("0123456789[]{}\",:-.eE ".utf8)[random.int(below: 22)]
                }
            }
            do {
                let model = try STNModel.load(bytes: bytes, path: "fuzz.safetensors")
                var theta = [Float](repeating: 0, count: model.parameterCount)
                let pixels = [UInt8](repeating: 128, count: model.inputHeight * model.inputWidth * model.inputChannels)
                model.makePredictor(maxBatch: 1).predict(pixels: pixels, batch: 1, theta: &theta)
                loaded += 1
            } catch let error as ModelFileError {
                XCTAssertTrue(error.description.hasPrefix("fuzz.safetensors: "))
                refused[error.kind, default: 0] += 1
            }
        }
        XCTAssertGreaterThan(loaded, 0)
        XCTAssertGreaterThan(refused.count, 5, "\(refused)")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }
}
