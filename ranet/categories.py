"""Class names of the data sets the authors trained on (ImageNet's come with torchvision)."""

from __future__ import annotations

__all__ = ["categories_for", "match_category"]

CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

CIFAR100 = """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus
butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab
crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard
lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom
oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine
possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake
spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor
train trout tulip turtle wardrobe whale willow_tree wolf woman worm""".split()


def categories_for(data: str, num_classes: int) -> list[str]:
    """Names for a model trained on ``data``; generic names when unknown or the count differs."""
    names: list[str] = []
    if data == "cifar10":
        names = CIFAR10
    elif data == "cifar100":
        names = CIFAR100
    elif data == "ImageNet":
        try:  # optional: the packaged app leaves torchvision out, and then shows generic names
            from torchvision.models._meta import _IMAGENET_CATEGORIES
        except ImportError:
            _IMAGENET_CATEGORIES = []
        names = list(_IMAGENET_CATEGORIES)
    if len(names) != num_classes:
        names = [f"class {i}" for i in range(num_classes)]
    return list(names)


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def match_category(folder_name: str, categories: list[str]) -> int | None:
    """Index of the category a folder is named after (case and punctuation ignored: the folder
    ``T-shirt-top`` matches ``T-shirt/top``), or None."""
    key = _norm(folder_name)
    for i, name in enumerate(categories):
        if _norm(name) == key:
            return i
    return None
