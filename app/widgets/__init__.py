"""One widget per module."""

from .about import AboutDialog
from .budget_picker import BudgetPicker
from .class_breakdown import ClassBreakdown
from .confusion_matrix import ConfusionMatrix
from .detail_panel import DetailPanel
from .filter_bar import FilterBar
from .fitting_scroll_area import FittingScrollArea
from .model_card import ModelCardDialog, model_card_markdown
from .network_diagram import NetworkDiagram
from .plots_panel import PlotsPanel
from .recent_menu import RecentModelsMenu
from .results_view import ResultsView
from .threshold_slider import ThresholdSlider

__all__ = ["AboutDialog", "BudgetPicker", "ClassBreakdown", "ConfusionMatrix", "DetailPanel", "FilterBar", "FittingScrollArea", "ModelCardDialog", "NetworkDiagram", "PlotsPanel",
           "RecentModelsMenu", "ResultsView", "ThresholdSlider", "model_card_markdown"]
