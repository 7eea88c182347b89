"""The order store: the authority on orders, packing slips, invoices and serials."""
