"""A networkx view of note links (A-MEM), used for expansion at recall."""

from memsvc.graph.links import LinkGraph

__all__ = ["LinkGraph"]
