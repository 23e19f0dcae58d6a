import Foundation

/// Labelled 8-bit grey images from a pair of IDX files: images `[N, H, W]` (idx3) and
/// labels `[N]` (idx1). Pixels are row-major, 0 = background, 255 = ink, as in (Fashion-)MNIST.
public struct IDXDataset: Sendable {
    public let count: Int
    public let height: Int
    public let width: Int
    /// `count × height × width` bytes.
    public let pixels: [UInt8]
    /// `count` class indices.
    public let labels: [UInt8]
    /// One more than the largest label (10 for MNIST and Fashion-MNIST).
    public let classCount: Int

    public init(count: Int, height: Int, width: Int, pixels: [UInt8], labels: [UInt8]) {
        precondition(pixels.count == count * height * width && labels.count == count)
        self.count = count; self.height = height; self.width = width
        self.pixels = pixels; self.labels = labels
        classCount = Int(labels.max() ?? 0) + 1
    }

    /// Reads an image file and its label file; checks ranks and that the counts agree.
    public init(images: URL, labels: URL) throws(IDXError) {
        let imageFile = try IDXFile(contentsOf: images)
        guard imageFile.dimensions.count == 3 else {
            throw IDXError(
                path: images.path,
                "expected images [N, H, W] (idx3), found rank \(imageFile.dimensions.count) \(imageFile.dimensions)")
        }
        guard imageFile.dimensions[0] > 0 else { throw IDXError(path: images.path, "no images (N = 0)") }
        guard imageFile.dimensions[1] > 0, imageFile.dimensions[2] > 0 else {
            throw IDXError(path: images.path, "empty images \(imageFile.dimensions)")
        }
        let labelFile = try IDXFile(contentsOf: labels)
        guard labelFile.dimensions.count == 1 else {
            throw IDXError(
                path: labels.path,
                "expected labels [N] (idx1), found rank \(labelFile.dimensions.count) \(labelFile.dimensions)")
        }
        guard labelFile.dimensions[0] == imageFile.dimensions[0] else {
            throw IDXError(
                path: labels.path,
                "\(labelFile.dimensions[0]) labels for \(imageFile.dimensions[0]) images in \(images.path)")
        }
        self.init(
            count: imageFile.dimensions[0], height: imageFile.dimensions[1], width: imageFile.dimensions[2],
            pixels: imageFile.bytes, labels: labelFile.bytes)
    }

    /// The first `limit` samples (all of them when `limit` ≥ count).
    public func prefix(_ limit: Int) -> IDXDataset {
        let n = min(max(limit, 0), count), size = height * width
        return IDXDataset(
            count: n, height: height, width: width, pixels: Array(pixels[0..<(n * size)]), labels: Array(labels[0..<n]))
    }

    /// The pixels of sample `index`, `height × width` bytes.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        let size = height * width
        return pixels[(index * size)..<((index + 1) * size)]
    }
}

/// The two splits of an MNIST-style data set.
public enum DatasetSplit: String, CaseIterable, Sendable {
    case train
    case test = "t10k"
}

/// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017) as Debian's `dataset-fashion-mnist` installs it,
/// or any directory holding `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]` (MNIST too).
public enum FashionMNIST {
    public static let defaultDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

    /// Class names, index = label.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
    ]

    /// The image and label files of `split` in `directory`: the gzipped names when present, else the plain ones.
    public static func files(_ split: DatasetSplit, in directory: URL = defaultDirectory) -> (images: URL, labels: URL)
    {
        func pick(_ stem: String) -> URL {
            let gz = directory.appendingPathComponent(stem + ".gz")
            return FileManager.default.fileExists(atPath: gz.path) ? gz : directory.appendingPathComponent(stem)
        }
        return (pick("\(split.rawValue)-images-idx3-ubyte"), pick("\(split.rawValue)-labels-idx1-ubyte"))
    }

    /// Loads `split` from `directory` (default: Debian's location).
    public static func load(_ split: DatasetSplit, from directory: URL = defaultDirectory) throws(IDXError)
        -> IDXDataset
    {
        let (images, labels) = files(split, in: directory)
        guard FileManager.default.fileExists(atPath: images.path) else {
            throw IDXError(
                path: images.path,
                "no such file (install Debian's dataset-fashion-mnist, or pass a directory of IDX files)")
        }
        return try IDXDataset(images: images, labels: labels)
    }
}
