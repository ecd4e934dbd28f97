"""Imported by ``local_ni_platform_activation.pth`` at interpreter start-up; must stay cheap."""

from local_ni_platform.activation import install_import_hook

install_import_hook()
