"""Stripe tax IDs: /v1/customers/{customer}/tax_ids (a customer's) and /v1/tax_ids (any owner: the tenant itself,
a customer, a connected account named by id), create, retrieve, list, delete; one table behind both."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

import bulkbill.services.customers.tax_ids as service
from bulkbill.api.stripe.edge.call import StripeRequest, execute, stripe_request
from bulkbill.api.stripe.edge.expansion import allowed, listed
from bulkbill.api.stripe.edge.openapi import body_params, query_params
from bulkbill.api.stripe.edge.params import EXPAND, LIST_PARAMS, Array, Enum, Obj, Str, parse
from bulkbill.api.stripe.edge.render import check_expand, cursor_from, list_object
from bulkbill.core.customers.tax_ids import TaxIdOwner
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import CustomerTaxId

router = APIRouter()

# The types stripe-python 16.1 declares (TaxIdCreateParams.type).
TAX_ID_TYPES = (
    "ad_nrt",
    "ae_trn",
    "al_tin",
    "am_tin",
    "ao_tin",
    "ar_cuit",
    "au_abn",
    "au_acn",
    "au_arn",
    "au_wpn",
    "aw_tin",
    "az_tin",
    "ba_tin",
    "bb_tin",
    "bd_bin",
    "bf_ifu",
    "bg_uic",
    "bh_vat",
    "bj_ifu",
    "bo_tin",
    "br_cnpj",
    "br_cpf",
    "bs_tin",
    "bw_vat",
    "by_tin",
    "ca_bn",
    "ca_gst_hst",
    "ca_pst_bc",
    "ca_pst_mb",
    "ca_pst_sk",
    "ca_qst",
    "cd_nif",
    "ch_uid",
    "ch_vat",
    "ci_vat",
    "cl_tin",
    "cm_niu",
    "cn_tin",
    "co_nit",
    "cr_tin",
    "cv_nif",
    "cz_dic",
    "de_stn",
    "do_rcn",
    "ec_ruc",
    "eg_tin",
    "es_cif",
    "et_tin",
    "eu_oss_vat",
    "eu_vat",
    "fo_vat",
    "fr_siren",
    "fr_siret",
    "fr_spi",
    "gb_vat",
    "ge_vat",
    "gh_tin",
    "gi_tin",
    "gn_nif",
    "hk_br",
    "hr_oib",
    "hu_tin",
    "ic_nif",
    "id_npwp",
    "il_vat",
    "in_gst",
    "is_kt",
    "is_vat",
    "it_cf",
    "jp_cn",
    "jp_rn",
    "jp_trn",
    "ke_pin",
    "kg_tin",
    "kh_tin",
    "kr_brn",
    "kz_bin",
    "la_tin",
    "li_uid",
    "li_vat",
    "lk_vat",
    "ma_vat",
    "md_cf",
    "md_vat",
    "me_pib",
    "mk_vat",
    "mr_nif",
    "mu_vat",
    "mx_rfc",
    "my_frp",
    "my_itn",
    "my_sst",
    "mz_nuit",
    "ng_tin",
    "no_vat",
    "no_voec",
    "np_pan",
    "nz_bn",
    "nz_gst",
    "om_vat",
    "pe_ruc",
    "ph_tin",
    "pl_nip",
    "pt_nif",
    "py_ruc",
    "ro_tin",
    "rs_pib",
    "ru_inn",
    "ru_kpp",
    "sa_vat",
    "sg_gst",
    "sg_uen",
    "si_tin",
    "sm_coe",
    "sn_ninea",
    "sr_fin",
    "sv_nit",
    "th_vat",
    "tj_tin",
    "tr_tin",
    "tt_bir",
    "tt_vat",
    "tw_vat",
    "tz_vat",
    "ua_vat",
    "ug_tin",
    "us_ein",
    "uy_ruc",
    "uz_tin",
    "uz_vat",
    "ve_rif",
    "vn_tin",
    "za_vat",
    "zm_tin",
    "zw_tin",
)
TAX_ID = Obj({"type": Enum(TAX_ID_TYPES), "value": Str()}, required=frozenset({"type", "value"}))
# `tax_id_data` on customer create.
TAX_ID_DATA = Array(TAX_ID, max_items=service.MAX_TAX_IDS)
CREATE = Obj({**TAX_ID.fields, "expand": EXPAND}, required=TAX_ID.required)
RETRIEVE = Obj({"expand": EXPAND})
LIST = Obj(LIST_PARAMS)


# `owner` on /v1/tax_ids (create and list): Stripe's default is the account itself (`self`).
OWNER = Obj(
    {"type": Enum(tuple(o.value for o in TaxIdOwner)), "customer": Str(), "account": Str()},
    required=frozenset({"type"}),
)
CREATE_OWNED = Obj({**CREATE.fields, "owner": OWNER}, required=TAX_ID.required)
LIST_OWNED = Obj({**LIST_PARAMS, "owner": OWNER})


def render_tax_id(t: CustomerTaxId) -> dict[str, Any]:
    return {
        "id": t.id,
        "object": "tax_id",
        "country": t.country,
        "created": t.created,
        "customer": t.customer_id,
        "customer_account": None,
        "livemode": False,
        "owner": {
            "type": t.owner_type,
            "account": t.owner_account,
            "application": None,
            "customer": t.customer_id,
            "customer_account": None,
        },
        "type": t.type,
        "value": t.value,
        "verification": None,
    }


def _owner(given: dict[str, Any] | None) -> service.Owner:
    if given is None:
        return service.Owner()
    return service.Owner(TaxIdOwner(given["type"]), customer=given.get("customer"), account=given.get("account"))


def new_tax_ids(data: list[dict[str, Any]] | None) -> list[service.NewTaxId]:
    return [service.NewTaxId(d["type"], d["value"]) for d in data or ()]


def tax_id_list(customer_id: str, rows: list[CustomerTaxId]) -> dict[str, Any]:
    """The customer's `tax_ids` list, as `expand[]=tax_ids` shows it."""
    return {
        "object": "list",
        "data": [render_tax_id(t) for t in rows],
        "has_more": False,
        "url": f"/v1/customers/{customer_id}/tax_ids",
    }


@router.post("/v1/customers/{customer_id}/tax_ids", openapi_extra=body_params(CREATE))
def create_tax_id(customer_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE, params)
        check_expand(p, allowed("tax_id"))
        return render_tax_id(service.create_tax_id(uow, customer_id, service.NewTaxId(p["type"], p["value"])))

    return execute(call, run)


@router.get("/v1/customers/{customer_id}/tax_ids/{tax_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_tax_id(customer_id: str, tax_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), allowed("tax_id"))
        return render_tax_id(service.get_tax_id(uow, customer_id, tax_id))

    return execute(call, run)


@router.delete("/v1/customers/{customer_id}/tax_ids/{tax_id}")
def delete_tax_id(customer_id: str, tax_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        parse(Obj({}), params)
        row = service.delete_tax_id(uow, customer_id, tax_id)
        return {"id": row.id, "object": "tax_id", "deleted": True}

    return execute(call, run)


@router.get("/v1/customers/{customer_id}/tax_ids", openapi_extra=query_params(LIST))
def list_tax_ids(customer_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST, params)
        check_expand(p, listed("tax_id"))
        page = service.list_tax_ids(uow, customer_id, cursor_from(p))
        return list_object(f"/v1/customers/{customer_id}/tax_ids", page, render_tax_id)

    return execute(call, run)


@router.post("/v1/tax_ids", openapi_extra=body_params(CREATE_OWNED))
def create_owned_tax_id(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(CREATE_OWNED, params)
        check_expand(p, ())
        new = service.NewTaxId(p["type"], p["value"])
        return render_tax_id(service.create_owned_tax_id(uow, _owner(p.get("owner")), new))

    return execute(call, run)


@router.get("/v1/tax_ids/{tax_id}", openapi_extra=query_params(RETRIEVE))
def retrieve_owned_tax_id(tax_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        check_expand(parse(RETRIEVE, params), ())
        return render_tax_id(service.get_any_tax_id(uow, tax_id))

    return execute(call, run)


@router.delete("/v1/tax_ids/{tax_id}")
def delete_owned_tax_id(tax_id: str, call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        parse(Obj({}), params)
        row = service.delete_any_tax_id(uow, tax_id)
        return {"id": row.id, "object": "tax_id", "deleted": True}

    return execute(call, run)


@router.get("/v1/tax_ids", openapi_extra=query_params(LIST_OWNED))
def list_owned_tax_ids(call: StripeRequest = Depends(stripe_request)) -> Response:
    def run(uow: UnitOfWork, params: dict[str, Any]) -> dict[str, Any]:
        p = parse(LIST_OWNED, params)
        check_expand(p, ())
        return list_object(
            "/v1/tax_ids", service.list_owned_tax_ids(uow, _owner(p.get("owner")), cursor_from(p)), render_tax_id
        )

    return execute(call, run)
