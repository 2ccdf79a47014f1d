"""CivicGrid (智慧城管平台): the platform of a Chinese urban-management bureau."""

__version__ = "0.1.0"
