"""How a video of an mmaction dataset is identified: its frame folder
(``RawframeDataset``) or file (``VideoDataset``), relative to the dataset's
data prefix (:func:`~mmbackdoor.poisoning.selection.sample_key` of
:func:`video_path` and :func:`dataset_root`). The crafting side and
``CleanLabelPoison`` use the same keys."""


def video_path(info: dict) -> str:
    """The frame folder (``RawframeDataset``) or file (``VideoDataset``)
    of a video's data info or results dict."""
    for name in ('frame_dir', 'filename'):
        if info.get(name):
            return info[name]
    raise KeyError('a video needs a "frame_dir" (RawframeDataset) or '
                   '"filename" (VideoDataset)')


def dataset_root(dataset) -> str:
    """The folder video paths of ``dataset`` are relative to (its data
    prefix)."""
    prefix = getattr(dataset, 'data_prefix', None) or {}
    return next((p for p in prefix.values() if p), '')
