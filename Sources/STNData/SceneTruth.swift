import Foundation

/// Ground truth of one generated frame: the item's class and box, in frame pixels and in
/// normalised square-canvas coordinates (DESIGN.md §2).
public struct SceneTruth: Equatable, Sendable {
    public var frame: Int
    public var time: Double
    public var label: Int
    /// Box in frame pixels (continuous, origin at the top-left corner).
    public var box: SceneSquare
    /// The same box in the square canvas: centre in [−1, 1]², half-side normalised.
    public var canvasBox: SceneSquare
    public var sceneCut: Bool

    public init(frame: Int, time: Double, layout: SceneLayout, sceneCut: Bool) {
        self.frame = frame; self.time = time; label = layout.item.label
        box = layout.item.box; canvasBox = layout.canvasBox; self.sceneCut = sceneCut
    }

    public static let csvHeader =
        "frame,pts_time,class,class_name,box_cx,box_cy,box_side,canvas_cx,canvas_cy,canvas_half_side,scene_cut"

    /// One CSV row (no newline), columns as `csvHeader`.
    public var csvRow: String {
        let name = label < FashionMNIST.classNames.count ? FashionMNIST.classNames[label] : String(label)
        func f(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
        return [
            String(frame), f(time, 6), String(label), "\"\(name)\"",
            f(box.centreX, 3), f(box.centreY, 3), f(2 * box.halfSide, 3),
            f(canvasBox.centreX, 6), f(canvasBox.centreY, 6), f(canvasBox.halfSide, 6),
            sceneCut ? "1" : "0"
        ].joined(separator: ",")
    }
}
