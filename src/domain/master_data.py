"""Products and customers between the two registers (flows 1, 2 and 5): what to create, link or update."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields, replace
from decimal import Decimal

from spotilla_procountor.domain.business_id import parse_business_id
from spotilla_procountor.domain.codes import clean_text, iso_country, procountor_unit, shortened
from spotilla_procountor.domain.eligibility import customer_reasons, not_a_number
from spotilla_procountor.domain.invoicing import address_country_code, customer_address
from spotilla_procountor.domain.keys import product_code
from spotilla_procountor.domain.model import Customer, CustomerFields, Product
from spotilla_procountor.domain.procountor import Address, NewPartner, NewProduct, Partner
from spotilla_procountor.domain.reasons import Reason, ReasonCode


def _unusable_number(product: Product) -> Reason | None:
    """Why the product's price or VAT cannot be used at all (not a number), naming the field and the value."""
    name = shortened(product.name)
    if (shown := not_a_number(product.unit_price)) is not None:
        return Reason.of(ReasonCode.PRICE_INVALID, product=name, value=shown)
    if (shown := not_a_number(product.vat_percent)) is not None:
        return Reason.of(ReasonCode.VALUE_UNREADABLE, field="VAT percent", what=f"product {name}", value=shown)
    return None


def new_product(product: Product, vat_percentages: Collection[Decimal]) -> NewProduct | Reason:
    """The product to create in Procountor, or why it cannot be created there. Its name is sent cleaned."""
    if (unusable := _unusable_number(product)) is not None:
        return unusable
    price, vat = Decimal(product.unit_price), Decimal(product.vat_percent)  # type: ignore[arg-type]
    unit = procountor_unit(product.unit)
    problems = []
    if unit is None:
        shown = shortened(product.unit) if product.unit else product.unit
        problems.append(f"its unit {shown!r} has no Procountor equivalent; use h, pcs, km, m, kg or l")
    if vat_percentages and vat not in vat_percentages:
        allowed = ", ".join(f"{v.normalize():f}" for v in sorted(vat_percentages, reverse=True))
        problems.append(f"VAT {vat.normalize():f} % is not in use in Procountor (allowed: {allowed})")
    if price < 0:
        problems.append(f"its price {price} is negative")
    if problems:
        name = shortened(product.name)
        return Reason.of(ReasonCode.PRODUCT_NOT_CREATABLE, product=name, detail="; ".join(problems) + ".")
    return NewProduct(
        name=clean_text(product.name) or "",
        code=product_code(product.id, product.code),
        unit=unit or "NO_UNIT",
        price=product.unit_price,
        vat_percent=product.vat_percent,
    )


def new_partner(customer: Customer) -> NewPartner | list[Reason]:
    """The CUSTOMER partner to create in Procountor, or every reason it cannot be created."""
    reasons = customer_reasons(customer)
    billing = customer_address(customer)
    if billing.country is None:  # the country of the address that is sent: the billing one when there is one
        code = address_country_code(customer)
        code = shortened(code) if code else code
        reasons.append(
            Reason.of(
                ReasonCode.FIELD_INVALID,
                what="Country",
                detail=f"{code!r} is not a country code Procountor knows here; use e.g. FI or SE.",
            )
        )
    if reasons:
        return reasons
    business_id = parse_business_id(customer.business_id).business_id
    return NewPartner(  # texts cleaned of control characters (customer_address cleans the address)
        name=clean_text(customer.name) or "",
        business_id=str(business_id),
        address=billing,
        billing_address=billing,
        email=clean_text(customer.billing_email or customer.email),
        phone=clean_text(customer.phone),
        einvoice_address=clean_text(customer.einvoice_address),
        einvoice_operator=clean_text(customer.einvoice_operator),
        payment_term_days=customer.payment_term_days,  # type: ignore[arg-type]  # customer_reasons: an int
        customer_number=str(customer.id),
    )


def procountor_owned_fields(partner: Partner) -> CustomerFields:
    """The customer fields Procountor owns, as Procountor holds them for a partner."""
    billing = partner.billing_address or partner.address or Address()
    verdict = parse_business_id(partner.business_id)
    return CustomerFields(
        name=partner.name,
        business_id=str(verdict.business_id) if verdict.business_id else partner.business_id,
        email=partner.email,
        billing_street=billing.street,
        billing_postal_code=billing.zip,
        billing_city=billing.city,
        billing_country=iso_country(billing.country),
        billing_email=partner.email,
        einvoice_address=partner.einvoice_address,
        einvoice_operator=partner.einvoice_operator,
        payment_term_days=partner.payment_term_days,
    )


def customer_fields(customer: Customer) -> CustomerFields:
    """Spotilla's current values of the fields Procountor owns."""
    return CustomerFields(**{f.name: getattr(customer, f.name) for f in fields(CustomerFields)})


def changes_from_procountor(customer: Customer, partner: Partner) -> CustomerFields | None:
    """Procountor's values when they differ from Spotilla's (Procountor wins), else None."""
    wanted = procountor_owned_fields(partner)
    return None if wanted == customer_fields(customer) else wanted


def apply_fields(customer: Customer, changes: CustomerFields) -> Customer:
    """The customer with Procountor-owned fields overwritten; site address and phone stay Spotilla's."""
    return replace(customer, **{f.name: getattr(changes, f.name) for f in fields(CustomerFields)})


def business_id_key(raw: str | None) -> str | None:
    """The canonical business ID used to match a customer with a partner, or None if unusable."""
    business_id = parse_business_id(raw).business_id
    return str(business_id) if business_id else None
