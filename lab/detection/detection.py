"""The region-proposal experiment of the paper (its train_faster_rcnn.py and model_builder_faster_rcnn.py).

Boxes are (i center, j center, height, width) in pixels, as the paper's. A
small conv net looks at a 64x64 image; at every cell of its 13x13 (16x16 with
'same' padding) feature map, 9 anchors are moved by predicted offsets
(`box_transform`) and scored object/background. Training, one image per step
as the paper: the moved boxes are matched to the ground truth by IoU, up to 6
positives and 6 negatives are sampled (`sample_boxes`), the positives'
offsets regress onto the ground truth's (smooth L1), and the scores learn
positive against negative (softmax cross-entropy). Evaluation keeps the 10
best-scoring boxes after non-maximum suppression and reports their IoU with
the digits (`mean_argmax_nms_iou`: each proposal's best IoU, averaged).
"""

import keras
import numpy as np
import tensorflow as tf

from lab.runs import TrackedSteps

ANCHOR_SHAPES = ((15, 15), (20, 20), (25, 25), (15, 20), (20, 25), (20, 15), (25, 20), (15, 25), (25, 15))
SAMPLE_SIZE = 12  # boxes sampled per image: half positives (at most), the rest negatives
HIGH_IOU, LOW_IOU = 0.5, 0.1  # positive above, negative below (against every digit)
NMS_IOU, PROPOSALS = 0.8, 10
STRIDE = 4  # two 2x2 max pools
METRICS = ("loss", "box_loss", "score_loss", "reg_loss", "pos_box_iou_train", "mean_nms_iou",
           "mean_argmax_nms_iou", "mean_nms_scores")


def feature_size(image_size: int, same: bool) -> int:
    """Side of the feature map: two 5x5 convs ('valid' shrinks each by 4) and two 2x2 pools."""
    size = image_size
    for _ in range(2):
        size = (size if same else size - 4) // 2
    return size


def anchors(image_size: int, same: bool, paper_layout: bool = False) -> tf.Tensor:
    """(cells * 9, 4) anchors, cell-major then anchor, as the network's outputs are reshaped.

    A cell's center is the center of its receptive field: 16 px wide ('valid'),
    so the first center is at 8 and they step by 4; with 'same' padding the
    cell sits over its 4x4 pooled block. The paper's make_anchors_mnist laid
    the anchors out coordinate-major, so its reshape gave each anchor four
    numbers taken from different anchors' coordinates (cell (0, 0)'s first
    anchor: center (8, 8), 8 x 8); `paper_layout` keeps that defect, to
    compare.
    """
    size = feature_size(image_size, same)
    first = STRIDE / 2 if same else 8.0
    centers = first + STRIDE * np.arange(size, dtype=np.float32)
    shapes = np.array(ANCHOR_SHAPES, np.float32)
    grid = np.empty((4, len(shapes), size, size), np.float32)  # (coordinate, anchor, i, j)
    grid[0] = centers[None, :, None]
    grid[1] = centers[None, None, :]
    grid[2] = shapes[:, 0, None, None]
    grid[3] = shapes[:, 1, None, None]
    if paper_layout:
        table = grid.reshape(4 * len(shapes), size, size).transpose(1, 2, 0)
    else:
        table = grid.transpose(2, 3, 1, 0)
    return tf.constant(table.reshape(-1, 4))


def to_corners(boxes):
    """(i center, j center, h, w) -> (i0, j0, i1, j1)."""
    center, half = boxes[:, :2], boxes[:, 2:] / 2.0
    return tf.concat([center - half, center + half], axis=1)


def from_corners(corners):
    """(i0, j0, i1, j1) -> (i center, j center, h, w)."""
    return tf.concat([(corners[:, :2] + corners[:, 2:]) / 2.0, corners[:, 2:] - corners[:, :2]], axis=1)


def box_transform(boxes, offsets):
    """Moves boxes by (ti, tj, th, tw): center += t * side, side *= exp(t), as Faster R-CNN."""
    return tf.concat([boxes[:, :2] + offsets[:, :2] * boxes[:, 2:], boxes[:, 2:] * tf.exp(offsets[:, 2:])], axis=1)


def invert_box_transform(boxes, targets):
    """The offsets that move `boxes` onto `targets`."""
    return tf.concat([(targets[:, :2] - boxes[:, :2]) / boxes[:, 2:], tf.math.log(targets[:, 2:] / boxes[:, 2:])],
                     axis=1)


def box_iou(boxes1, boxes2):
    """(N1, N2) intersection over union."""
    corners1, corners2 = to_corners(boxes1)[:, None], to_corners(boxes2)[None]
    low = tf.maximum(corners1[..., :2], corners2[..., :2])
    high = tf.minimum(corners1[..., 2:], corners2[..., 2:])
    intersection = tf.reduce_prod(tf.maximum(high - low, 0.0), axis=-1)
    areas1 = (boxes1[:, 2] * boxes1[:, 3])[:, None]
    areas2 = (boxes2[:, 2] * boxes2[:, 3])[None]
    return intersection / (areas1 + areas2 - intersection)


def clip_boxes(boxes, image_size: int):
    """Boxes cut to the image, at least 1 px on each side, and which of them still hold a pixel of it.

    As the paper's clip_boxes: corners clipped to [0, size - 1], the far ones at
    least 1 past the near ones' lower bound.
    """
    corners = to_corners(boxes)
    last = float(image_size - 1)
    low = tf.clip_by_value(corners[:, :2], 0.0, last - 1.0)
    high = tf.clip_by_value(corners[:, 2:], 1.0, last)
    valid = tf.reduce_all(high > low, axis=1)
    return from_corners(tf.concat([low, high], axis=1)), valid


def smooth_l1(x):
    """Per row: sum of |x| - where |x| > 1 - else x² (the paper's form, without the usual 0.5)."""
    absolute = tf.abs(x)
    return tf.reduce_sum(tf.where(absolute > 1.0, absolute, tf.square(x)), axis=1)


def inside(boxes, image_size: int):
    """Which boxes lie wholly within [0, size - 1] on both axes."""
    corners = to_corners(boxes)
    return tf.reduce_all(corners[:, :2] >= 0.0, axis=1) & tf.reduce_all(corners[:, 2:] <= image_size - 1.0, axis=1)


def sample_boxes(iou, boxes, image_size: int, seed):
    """The paper's BoxSampler: (positive (box, digit) pairs, negative boxes), at most SAMPLE_SIZE / 2 of each.

    Positive: the box closest to each digit, or any box within the image with
    IoU above HIGH_IOU. Negative: a box within the image, closest to no digit,
    with IoU below LOW_IOU against every digit; if there are none, any box
    that is not positive. Too few negatives are drawn with replacement (the
    paper's comment says so; its code drew none).
    """
    positive_size = SAMPLE_SIZE // 2
    negative_size = SAMPLE_SIZE - positive_size
    in_image = inside(boxes, image_size)[:, None]
    closest = tf.transpose(tf.one_hot(tf.argmax(iou, axis=0), tf.shape(iou)[0], on_value=True, off_value=False))
    positive_mask = closest | ((iou > HIGH_IOU) & in_image)
    pairs = keras.random.shuffle(tf.where(positive_mask), seed=seed)[:positive_size]
    negative_mask = tf.reduce_all((iou < LOW_IOU) & in_image & ~closest, axis=1)
    candidates = tf.cond(tf.reduce_any(negative_mask), lambda: tf.where(negative_mask)[:, 0],
                         lambda: tf.where(~tf.reduce_any(positive_mask, axis=1))[:, 0])
    return pairs, draw(candidates, negative_size, seed)


def draw(candidates, size: int, seed):
    """`size` of the candidates: without replacement when there are enough, else with it (none if none)."""
    count = tf.shape(candidates)[0]
    return tf.cond(count >= size, lambda: keras.random.shuffle(candidates, seed=seed)[:size],
                   lambda: tf.cond(count > 0, lambda: tf.gather(candidates, keras.random.randint(
                       (size,), 0, count, seed=seed)), lambda: candidates))


def proposals(scores, boxes, valid):
    """The PROPOSALS best boxes after non-maximum suppression, and their object probability."""
    probability = tf.boolean_mask(tf.nn.softmax(scores)[:, 0], valid)
    boxes = tf.boolean_mask(boxes, valid)
    kept = tf.image.non_max_suppression(to_corners(boxes), probability, PROPOSALS, iou_threshold=NMS_IOU)
    return tf.gather(boxes, kept), tf.gather(probability, kept)


class RegionProposals(TrackedSteps):
    """The network trained as the paper's RegionProposalSampler, one image (and its digits' boxes) per step."""

    def __init__(self, network: keras.Model, image_size: int, same: bool, clip: bool, paper_anchors=False, seed=0,
                 **kwargs):
        super().__init__(METRICS, seed, **kwargs)
        self.network, self.image_size, self.clip = network, image_size, clip
        self.anchors = anchors(image_size, same, paper_anchors)

    def call(self, image, training=False):
        """(proposals, their object probability) for one image (1, H, W, C)."""
        outputs = self.network(image, training=training)
        boxes, valid = self.moved_boxes(outputs["offsets"][0])
        return proposals(outputs["scores"][0], boxes, valid)

    def moved_boxes(self, offsets):
        """The anchors moved by the offsets, clipped to the image with --clip; which still hold a pixel of it."""
        boxes = box_transform(self.anchors, offsets)
        if self.clip:
            return clip_boxes(boxes, self.image_size)
        return boxes, tf.ones(tf.shape(boxes)[:1], tf.bool)

    def losses_on(self, image, digits, training) -> dict:
        """The paper's losses and metrics for one image and its digits' boxes (num, 4)."""
        outputs = self.network(image, training=training)
        offsets, scores = outputs["offsets"][0], outputs["scores"][0]
        boxes, valid = self.moved_boxes(offsets)
        if self.clip:
            digits, _ = clip_boxes(digits, self.image_size)
        iou = box_iou(tf.stop_gradient(boxes), digits)
        pairs, negatives = sample_boxes(iou, tf.stop_gradient(boxes), self.image_size, self.noise)
        positive_boxes, positive_digits = pairs[:, 0], pairs[:, 1]
        targets = invert_box_transform(tf.gather(self.anchors, positive_boxes), tf.gather(digits, positive_digits))
        box_loss = tf.reduce_mean(smooth_l1(tf.gather(offsets, positive_boxes) - targets))
        labels = tf.concat([tf.zeros_like(positive_boxes), tf.ones_like(negatives)], axis=0)  # 0: object
        score_loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=tf.gather(scores, tf.concat([positive_boxes, negatives], axis=0))))
        reg_loss = tf.add_n([0.0] + self.network.losses)
        kept, probability = proposals(scores, boxes, valid)
        kept_iou = box_iou(kept, digits)
        return {"loss": box_loss + score_loss + reg_loss, "box_loss": box_loss, "score_loss": score_loss,
                "reg_loss": reg_loss, "pos_box_iou_train": tf.reduce_mean(tf.gather_nd(iou, pairs)),
                "mean_nms_iou": tf.reduce_mean(kept_iou),
                "mean_argmax_nms_iou": tf.reduce_mean(tf.reduce_max(kept_iou, axis=1)),
                "mean_nms_scores": tf.reduce_mean(probability)}

    def step(self, batch):
        image, digits = batch
        return self.tracked(self.descend(self.optimizer, self.network.trainable_variables,
                                         lambda: self.losses_on(image, digits[0], training=True)))

    def evaluation_step(self, batch):
        image, digits = batch
        return self.tracked(self.losses_on(image, digits[0], training=False))
