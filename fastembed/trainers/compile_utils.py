"""compile()'s loss, loss_weights and metrics, resolved per model output
and named as Keras names them ('loss', '<output>_loss', '<output>_<metric>'
when the model has several outputs)."""
import numpy as np

from fastembed import losses as losses_module
from fastembed import metrics as metrics_module


def per_output(value, output_names, argument):
    """value given once, as a list (one per output) or a dict keyed by
    output name, as a list with one entry per output."""
    if isinstance(value, dict):
        unknown = [k for k in value if k not in output_names]
        if unknown:
            raise ValueError(f"`{argument}` has keys {unknown} that are not output names; the "
                             f"outputs are {output_names}")
        return [value.get(name) for name in output_names]
    if isinstance(value, (list, tuple)) and (len(output_names) > 1 or not argument.endswith(
            "metrics")):
        if len(value) != len(output_names):
            raise ValueError(f"`{argument}` must have one entry per output {output_names}, "
                             f"got {len(value)}")
        return list(value)
    return [value] * len(output_names)


class CompiledLoss:
    """The training loss: the sum over outputs of loss_weight * loss.
    report_order: the outputs with a loss in Keras's order of its per-output
    losses (a loss dict's own order, else the outputs')."""

    def __init__(self, loss, loss_weights, output_names):
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='binary_crossentropy'")
        if not isinstance(loss, (list, tuple, dict)) and isinstance(
                loss_weights, (list, tuple, dict)) and len(loss_weights) != 1:
            # Keras pairs the weights with the losses given, not with the outputs.
            raise ValueError(f"`loss_weights` must match the number of losses, got 1 losses "
                             f"and {len(loss_weights)} weights.")
        losses = per_output(loss, output_names, "loss")
        if all(entry is None for entry in losses):
            raise ValueError(f"compile needs a loss for at least one output of {output_names}")
        self.losses = [None if entry is None else losses_module.get(entry) for entry in losses]
        for entry in self.losses:
            if entry is not None:
                entry._check_training_reduction()
        weights = per_output(loss_weights, output_names, "loss_weights") \
            if loss_weights is not None else [None] * len(output_names)
        for name, weight in zip(output_names, weights):
            if weight is not None and (isinstance(weight, bool) or not isinstance(
                    weight, (int, float, np.floating, np.integer))):
                raise ValueError(f"loss_weights for output {name!r} must be a number, "
                                 f"got {weight!r}")
        self.weights = weights
        self.output_names = output_names
        order = list(loss) if isinstance(loss, dict) else output_names
        with_loss = {name for name, entry in zip(output_names, self.losses) if entry is not None}
        self.report_order = [name for name in order if name in with_loss]

    def trackers(self):
        """Fresh running means: the total loss, then each output's loss when
        several outputs have one (None for the others), as Keras."""
        several = len(self.report_order) > 1
        return [metrics_module.Mean("loss")] + [
            metrics_module.Mean(f"{name}_loss") if several and loss is not None else None
            for name, loss in zip(self.output_names, self.losses)]

    def value_and_gradients(self, ys, y_preds, masks, sample_weights, trackers, calls):
        """(the step's loss, each output's loss gradient), with each output's
        loss added to its tracker (the caller adds the total, with the
        regularization penalties, to trackers[0]). calls: per output, the
        (layer, context) whose backward takes the output's gradient
        unchanged, or None (Graph.output_calls); a loss may then write the
        gradient of that call's logits over its output, so y_preds must
        not be read afterwards."""
        total, grads, batch = 0.0, [], len(y_preds[0])
        for loss, weight, tracker, y, y_pred, mask, sample_weight, call in zip(
                self.losses, self.weights, trackers[1:], ys, y_preds, masks, sample_weights,
                calls):
            if loss is None:
                grads.append(None)
                continue
            fused = None if call is None else loss.value_and_logit_gradient(
                *call, y, y_pred, mask, sample_weight, weight)
            if fused is None:
                value, grad = loss.value_and_gradient(y, y_pred, mask, sample_weight)
                if weight is not None:
                    grad = grad * np.float32(weight)
            else:  # the gradient of the call's logits, weight included
                value, grad = fused
            if tracker is not None:
                tracker.update_state(value, batch)
            total += value if weight is None else value * weight
            grads.append(np.asarray(grad, dtype=np.float32))
        return total, grads

    def value(self, ys, y_preds, masks, sample_weights, trackers):
        """The batch's loss (evaluate), each output's added to its tracker."""
        total, batch = 0.0, len(y_preds[0])
        for loss, weight, tracker, y, y_pred, mask, sample_weight in zip(
                self.losses, self.weights, trackers[1:], ys, y_preds, masks, sample_weights):
            if loss is None:
                continue
            value = loss.value(y, y_pred, mask, sample_weight)
            if tracker is not None:
                tracker.update_state(value, batch)
            total += value if weight is None else value * weight
        return total

    def serialize(self):
        return [None if loss is None else losses_module.serialize(loss) for loss in self.losses]


class CompiledMetrics:
    """Metric objects per output, built on the first data seen (where
    'accuracy' resolves to its binary, categorical or sparse form)."""

    def __init__(self, metrics, output_names, argument="metrics"):
        self.output_names = output_names
        specs = per_output(metrics, output_names, argument)
        self.specs = [[] if s is None else list(s) if isinstance(s, (list, tuple)) else [s]
                      for s in specs]
        for output_specs in self.specs:
            for spec in output_specs:  # fail now on unknown names
                metrics_module.get(spec, (1, 2), (1, 2))

    def build(self, ys, y_pred_shapes):
        """Fresh metric objects per output, for targets ys and outputs of
        y_pred_shapes ('accuracy' resolves from them)."""
        return [[metrics_module.get(spec, y.shape, shape) for spec in output_specs]
                for output_specs, y, shape in zip(self.specs, ys, y_pred_shapes)]

    def names(self, built, taken=()):
        """Keras's log names; a name already taken (a weighted metric named
        as an unweighted one) gets the prefix 'weighted_'."""
        prefix = len(self.output_names) > 1
        names = [f"{name}_{m.name}" if prefix else m.name
                 for name, output_metrics in zip(self.output_names, built) for m in output_metrics]
        return [f"weighted_{name}" if name in taken else name for name in names]

    def serialize(self, per_output=False):
        """The metric names, in the form compile takes them back (a list
        per output with per_output)."""
        names = [[m if isinstance(m, str) else m.name for m in specs] for specs in self.specs]
        return names if per_output or len(names) > 1 else names[0]


class RunningResults:
    """The running loss means and metrics of one loop (a fit epoch, an
    evaluate), with Keras's log names. Metrics see the output's mask as
    their sample weight; weighted metrics see it times the sample weights."""

    def __init__(self, compiled_loss, compiled_metrics, compiled_weighted_metrics, ys,
                 y_pred_shapes):
        self.compiled_loss = compiled_loss
        self.trackers = compiled_loss.trackers()
        self.metrics = compiled_metrics.build(ys, y_pred_shapes)
        self.weighted_metrics = compiled_weighted_metrics.build(ys, y_pred_shapes)
        names = [t.name for t in self.trackers if t is not None] \
            + compiled_metrics.names(self.metrics)
        names += compiled_weighted_metrics.names(self.weighted_metrics, set(names))
        # Logs in sorted order of their names, as Keras (jax) gives them.
        self._order = sorted(range(len(names)), key=names.__getitem__)
        self._names = [names[i] for i in self._order]

    def train_gradients(self, ys, y_preds, masks, sample_weights, calls):
        """(the loss without the penalties, each output's loss gradient);
        metrics updated first: the losses may overwrite y_preds with
        gradients (calls: Graph.output_calls). The caller calls add_loss
        with the total loss."""
        self._update_metrics(ys, y_preds, masks, sample_weights)
        return self.compiled_loss.value_and_gradients(ys, y_preds, masks, sample_weights,
                                                      self.trackers, calls)

    def update_state(self, ys, y_preds, masks, sample_weights, penalty=0.0):
        self.add_loss(self.compiled_loss.value(ys, y_preds, masks, sample_weights,
                                               self.trackers) + penalty, len(y_preds[0]))
        self._update_metrics(ys, y_preds, masks, sample_weights)

    def add_loss(self, total, batch):
        """A step's total loss (the penalties included) into the loss tracker."""
        self.trackers[0].update_state(total, batch)

    def _update_metrics(self, ys, y_preds, masks, sample_weights):
        for y, y_pred, mask, sample_weight, output_metrics, output_weighted_metrics in zip(
                ys, y_preds, masks, sample_weights, self.metrics, self.weighted_metrics):
            if not (output_metrics or output_weighted_metrics):
                continue
            values_shape = y_pred.shape[:-1]
            mask = None if mask is None else np.asarray(mask, np.float32).reshape(values_shape)
            for metric in output_metrics:
                metric.update_state(y, y_pred, sample_weight=mask)
            if output_weighted_metrics:
                if sample_weight is not None:
                    sample_weight = losses_module.broadcast_weights(sample_weight, values_shape)
                    mask = sample_weight if mask is None else mask * sample_weight
                for metric in output_weighted_metrics:
                    metric.update_state(y, y_pred, sample_weight=mask)

    def metric_object_names(self):
        return [m.name for output_metrics in self.metrics + self.weighted_metrics
                for m in output_metrics]

    def reset(self):
        for metric in self._all():
            metric.reset_state()

    def _all(self):
        return [t for t in self.trackers if t is not None] + \
            [m for output_metrics in self.metrics + self.weighted_metrics for m in output_metrics]

    def logs(self):
        metrics = self._all()
        return {name: metrics[i].result() for name, i in zip(self._names, self._order)}
